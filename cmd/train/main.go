// Command train fits the model the predict function serves and writes the
// model.json it embeds, from any CSV with a header row, numeric feature
// columns and a class column:
//
//	go run ./cmd/train                                   # the Iris model (data/iris.csv)
//	go run ./cmd/train -data my.csv -target label [-meta my.meta.json]
//
// The meta file (name, title, description; per feature a description, unit
// and valid range) defaults to the CSV's name with .meta.json when that file
// exists. Paths are recorded in model.json: run it from the module root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/train"
)

func main() {
	data := flag.String("data", "data/iris.csv", "training data: a CSV with a header row")
	target := flag.String("target", "species", "the CSV column that holds the class")
	meta := flag.String("meta", "", "the dataset's meta file (default: the CSV's name with .meta.json, if it exists)")
	out := flag.String("out", "functions/predict/model/model.json", "where to write the model (the default is what the function embeds)")
	o := train.DefaultOptions
	flag.IntVar(&o.Folds, "folds", o.Folds, "stratified cross-validation folds")
	flag.Parse()
	if err := run(*data, *target, *meta, *out, o); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(data, target, meta, out string, o train.Options) error {
	if meta == "" {
		guess := strings.TrimSuffix(data, ".csv") + ".meta.json"
		if _, err := os.Stat(guess); err == nil {
			meta = guess
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	m, d, err := train.FromFiles(data, target, meta, o)
	if err != nil {
		return err
	}
	b, err := train.Encode(m)
	if err != nil {
		return err
	}
	fmt.Printf("%d rows, %d features, %d classes of %s; %d-fold stratified cross-validation\n", len(d.Y), len(d.Features), len(d.Classes), target, o.Folds)
	if meta == "" {
		fmt.Println("no meta file: ranges derived from the data, units empty")
	}
	fmt.Printf("accuracy: cross-validated %.4f, on training data %.4f\n", m.Metrics.CVAccuracy, m.Metrics.TrainingAccuracy)
	fmt.Printf("confusion matrix (rows actual, columns predicted):\n%12s", "")
	for _, c := range m.Classes {
		fmt.Printf(" %10s", c)
	}
	fmt.Println()
	for k, row := range m.Metrics.Confusion {
		fmt.Printf("%12s", m.Classes[k])
		for _, n := range row {
			fmt.Printf(" %10d", n)
		}
		fmt.Println()
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s (version %s, %d bytes)\n", out, m.Version, len(b))
	return nil
}
