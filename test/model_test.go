package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
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
	d, err := train.ReadCSV(strings.NewReader(csv.String()), "cultivar", model.Classification, &train.Meta{Title: "Wine cultivar predictor"})
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
			"alcohol": obj{"type": "number", "description": "alcohol, " + m.Features[0].Expects()},
			"hue":     obj{"type": "number", "description": "hue, " + m.Features[1].Expects()},
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
		api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Description": "Wine cultivar predictor (Go, multinomial logistic regression)"})
	})
}

// A model that takes missing values lets the gateway pass null for every
// feature (draft 4's type list), where the others refuse it before the
// function; and every model gets GET /openapi.json, with its preflight.
func TestTheGatewayTakesNullWhereTheModelDoes(t *testing.T) {
	m, err := model.Load("../internal/model/testdata/parity/hgb-diabetes.model.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := synthModel(t.TempDir(), m, envByName(t, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	nullable := obj{"type": []any{"number", "null"}, "description": m.Features[0].Description + ", " + m.Features[0].Expects()}
	check(t, func() {
		out["dev"].api.HasResourceProperties(jsii.String("AWS::ApiGateway::Model"), obj{"Schema": like(obj{
			"anyOf": arrayWith(like(obj{"properties": like(obj{m.Features[0].Name: nullable})})),
		})})
		out["dev"].api.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"Description": matches(`\(Go, HistGradientBoostingRegressor\)$`)})
		withoutCredentials.deployed["dev"].api.HasResourceProperties(jsii.String("AWS::ApiGateway::Model"), obj{"Schema": like(obj{
			"anyOf": arrayWith(like(obj{"properties": like(obj{served.Features[0].Name: like(obj{"type": "number"})})})),
		})})
	})
	for _, d := range []*synthesized{out["dev"], withoutCredentials.deployed["dev"]} {
		check(t, func() {
			d.api.HasResourceProperties(jsii.String("AWS::ApiGateway::Resource"), obj{"PathPart": "openapi.json"})
			d.api.ResourcePropertiesCountIs(jsii.String("AWS::ApiGateway::Method"), obj{"HttpMethod": "OPTIONS"}, jsii.Number(4))
		})
	}
}

// A pipeline's category is a string at the gateway too (null where the
// feature takes a missing value), and the validator's message says which
// fields are strings.
func TestTheGatewayTypesACategory(t *testing.T) {
	m, err := model.Load("../internal/model/testdata/parity/titanic-hgb-native.model.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := synthModel(t.TempDir(), m, envByName(t, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, func() {
		out["dev"].api.HasResourceProperties(jsii.String("AWS::ApiGateway::Model"), obj{"Schema": like(obj{
			"anyOf": arrayWith(like(obj{"properties": like(obj{"sex": like(obj{"type": []any{"string", "null"}})})})),
		})})
		out["dev"].api.HasResourceProperties(jsii.String("AWS::ApiGateway::GatewayResponse"), obj{
			"ResponseType":      "BAD_REQUEST_BODY",
			"ResponseTemplates": obj{"application/json": matches(`.*the numbers pclass, age, fare, sibsp and the strings sex, embarked, deck.*`)},
		})
	})
}
