// Command train fits the Iris model and writes the model.json that the predict
// function embeds. Run it after changing the data or the training code:
//
//	go run ./cmd/train
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/iris-cors/iris-cors-cdk/internal/train"
)

func main() {
	data := flag.String("data", "data/iris.csv", "training data (CSV with a header row)")
	out := flag.String("out", "functions/predict/model/model.json", "where to write the model")
	o := train.DefaultOptions
	flag.IntVar(&o.Folds, "folds", o.Folds, "stratified cross-validation folds")
	flag.Parse()
	if err := run(*data, *out, o); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(data, out string, o train.Options) error {
	f, err := os.Open(data)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := train.ReadCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", data, err)
	}
	m, err := train.Train(d, o)
	if err != nil {
		return err
	}
	b, err := train.Encode(m)
	if err != nil {
		return err
	}
	fmt.Printf("%d samples, %d-fold stratified cross-validation\n", len(d.Samples), o.Folds)
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
