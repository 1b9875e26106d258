// Command train fits the model the predict function serves and writes the
// model.json it embeds, from any CSV with a header row and a target column:
// a classifier (multinomial logistic regression) of a class column, or with
// -task regression a ridge regression of a numeric one. A text column is a
// category (one-hot encoded), a blank cell a missing value (imputed: a
// number's median, a category's most frequent value), and a column whose
// name is no API field gets one (it prints which).
//
//	go run ./cmd/train                                   # the Iris model (data/iris.csv)
//	go run ./cmd/train -data my.csv -target label [-meta my.meta.json]
//	go run ./cmd/train -task regression -data prices.csv -target price
//
// The meta file (name, title, description; per feature a description, unit
// and valid range; for a regression the target's description and unit)
// defaults to the CSV's name with .meta.json when that file exists. Paths
// are recorded in model.json: run it from the module root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/train"
)

func main() {
	data := flag.String("data", "data/iris.csv", "training data: a CSV with a header row")
	target := flag.String("target", "species", "the CSV column the model predicts")
	task := flag.String("task", string(model.Classification), "classification (a class column) or regression (a numeric one)")
	meta := flag.String("meta", "", "the dataset's meta file (default: the CSV's name with .meta.json, if it exists)")
	out := flag.String("out", project.ModelFile, "where to write the model (the default is what the function embeds)")
	o := train.DefaultOptions
	flag.IntVar(&o.Folds, "folds", o.Folds, "cross-validation folds")
	flag.Parse()
	if err := run(*data, *target, model.Task(*task), *meta, *out, o); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(data, target string, task model.Task, meta, out string, o train.Options) error {
	if meta == "" {
		guess := strings.TrimSuffix(data, ".csv") + ".meta.json"
		if _, err := os.Stat(guess); err == nil {
			meta = guess
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	m, d, err := train.FromFiles(data, target, meta, task, o)
	if err != nil {
		return err
	}
	b, err := train.Encode(m)
	if err != nil {
		return err
	}
	if meta == "" {
		fmt.Println("no meta file: ranges derived from the data, units empty")
	}
	for j, f := range d.Features {
		var notes []string
		if f.Name != d.Columns[j] {
			notes = append(notes, fmt.Sprintf("the API field %q", f.Name))
		}
		if f.IsCategory() {
			notes = append(notes, fmt.Sprintf("a category of %d values, one-hot encoded", len(f.Categories)))
		}
		if f.Missing == model.MissingImputed {
			notes = append(notes, "has blanks: imputed, and the API takes null")
		}
		if len(notes) > 0 {
			fmt.Printf("column %q: %s\n", d.Columns[j], strings.Join(notes, "; "))
		}
	}
	if task == model.Regression {
		fmt.Printf("%d rows, %d features, a regression of %s; %d-fold cross-validation\n", len(d.X), len(d.Features), target, o.Folds)
		fmt.Printf("R²: cross-validated %.4f, on training data %.4f\nRMSE: cross-validated %.4g, on training data %.4g\n",
			m.Metrics.CVR2, m.Metrics.TrainingR2, m.Metrics.CVRMSE, m.Metrics.TrainingRMSE)
	} else {
		printClassification(m, d, target, o)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s (version %s, %d bytes)\n", out, m.Version, len(b))
	return nil
}

func printClassification(m *model.Model, d *train.Dataset, target string, o train.Options) {
	fmt.Printf("%d rows, %d features, %d classes of %s; %d-fold stratified cross-validation\n", len(d.Y), len(d.Features), len(d.Classes), target, o.Folds)
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
}
