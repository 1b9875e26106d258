package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/functions/predict/model"
	"github.com/iris-cors/iris-cors-cdk/internal/train"
)

// Serving your own model: the gateway's schema (its features, typed), its
// bad-body message and the function's description follow model.json.
func TestTheInfrastructureFollowsTheModel(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("alcohol,hue,cultivar\n")
	for i := range 20 {
		fmt.Fprintf(&csv, "%d.5,%g,%s\n", 11+i%2*3, 0.5+float64(i%5)/10, map[bool]string{true: "barolo", false: "grignolino"}[i%2 == 0])
	}
	d, err := train.ReadCSV(strings.NewReader(csv.String()), "cultivar", &train.Meta{Title: "Wine cultivar predictor"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.Train(d, &train.Meta{Title: "Wine cultivar predictor"}, model.Source{Tool: "test"}, train.Options{Folds: 2, Iterations: 200, Rate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	out, err := synthModel(t.TempDir(), m, envByName(t, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	api := out["dev"].api
	// Types only: the function names unknown, missing and out-of-range fields.
	row := obj{
		"type": "object",
		"properties": obj{
			"alcohol": obj{"type": "number", "description": "alcohol, " + m.Features[0].Range()},
			"hue":     obj{"type": "number", "description": "hue, " + m.Features[1].Range()},
		},
	}
	check(t, func() {
		api.HasResourceProperties(jsii.String("AWS::ApiGateway::Model"), obj{"Schema": obj{
			"$schema": "http://json-schema.org/draft-04/schema#",
			"title":   "PredictRequest",
			"anyOf": []any{row, obj{
				"type":       "object",
				"required":   []any{"instances"},
				"properties": obj{"instances": obj{"type": "array", "items": row, "minItems": 1, "maxItems": model.MaxBatch}},
			}},
		}})
		api.HasResourceProperties(jsii.String("AWS::ApiGateway::GatewayResponse"), obj{
			"ResponseType":      "BAD_REQUEST_BODY",
			"ResponseTemplates": obj{"application/json": matches(`.*the numbers alcohol, hue, or .*`)},
		})
		api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Description": "Wine cultivar predictor (Go, softmax regression)"})
	})
}
