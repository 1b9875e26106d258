// Package openapi describes the predictor's API as an OpenAPI 3.0 document,
// generated from the model like everything else: what POST /predict takes
// and answers (the model's features, its classes or its number), GET
// /model, and the error envelope every failure answers with. The function
// serves it at GET /openapi.json, so a client can generate types from the
// API it calls.
package openapi

import (
	"fmt"
	"maps"

	"github.com/go-json-experiment/json"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// Document is the OpenAPI document of the API serving m. With an issuer
// (the user pool's, whose discovery document is at issuer +
// /.well-known/openid-configuration), the API requires sign-in: every
// operation but this document's declares the scheme and its 401.
func Document(m *model.Model, issuer string) ([]byte, error) {
	prediction := m.PredictionSchema()
	single := *prediction
	single.Properties = maps.Clone(prediction.Properties)
	single.Properties["model_version"] = &model.Schema{Type: "string"}
	single.Required = append(append([]string{}, prediction.Required...), "model_version")
	batch := &model.Schema{
		Type: "object", Closed: true, Required: []string{"predictions", "model_version"},
		Properties: map[string]*model.Schema{
			"predictions":   {Type: "array", Items: ref("Prediction")},
			"model_version": {Type: "string"},
		},
	}
	answers := "the class, under the target's name, and the probability of each class"
	if m.Task == model.Regression {
		answers = "the predicted " + m.Target + ": " + m.TargetDescription
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       m.Title,
			"version":     m.Version,
			"description": fmt.Sprintf("%s %s (%s, %s). POST /predict answers %s.", m.Description, m.Family, m.Task, m.Kind, answers),
		},
		// Relative to where this document is served: the API's base URL,
		// stage included.
		"servers": []any{map[string]any{"url": "."}},
		"tags":    []any{map[string]any{"name": tag, "description": m.Title}},
		"paths": map[string]any{
			"/predict": map[string]any{"post": map[string]any{
				"operationId": "predict",
				"tags":        []any{tag},
				"summary":     "Predict for one row, or a batch of up to " + fmt.Sprint(model.MaxBatch),
				"description": "A row is an object of the model's features; a batch is {\"instances\": [rows]}. A feature the model takes as missing may be null.",
				"requestBody": map[string]any{"required": true, "content": jsonContent(ref("PredictRequest"))},
				"responses": map[string]any{
					"200": response("The prediction, or a batch's", &model.Schema{AnyOf: []*model.Schema{ref("PredictResponse"), ref("PredictBatchResponse")}}),
					"400": response("The body is not what the model takes: the message names the field and what it got", ref("Error")),
					"413": response("The body is larger than a full batch", ref("Error")),
					"415": response("The body is not UTF-8 JSON", ref("Error")),
				},
			}},
			"/model": map[string]any{"get": map[string]any{
				"operationId": "describeModel",
				"tags":        []any{tag},
				"description": "What a form or a client needs to know of the model, from the model itself.",
				"summary":     "The model: its features with units and valid ranges, what it predicts, examples, metrics",
				"responses":   map[string]any{"200": response("The model", ref("Model"))},
			}},
			"/openapi.json": map[string]any{"get": map[string]any{
				"operationId": "openapi",
				"tags":        []any{tag},
				"description": "The same bytes at every call for the same model, so generated types do not churn.",
				"summary":     "This document",
				"responses":   map[string]any{"200": response("The OpenAPI document", &model.Schema{Type: "object"})},
			}},
		},
		"components": map[string]any{"schemas": map[string]any{
			"PredictRequest":       m.RequestSchema(true),
			"Prediction":           prediction,
			"PredictResponse":      &single,
			"PredictBatchResponse": batch,
			"Model":                modelSchema(),
			"Error":                errorSchema(),
		}},
	}
	// API Gateway throttles every method of the stage.
	for _, item := range doc["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			op.(map[string]any)["responses"].(map[string]any)["429"] = response("Throttled by the stage", ref("Error"))
		}
	}
	security(doc, issuer)
	return json.Marshal(doc, json.Deterministic(true))
}

// tag groups the operations (one: the API does one thing).
const tag = "predictor"

// security says who may call each operation. Without an issuer, anyone:
// each says so (an empty requirement), rather than leave a reader to guess.
// With one, the sign-in on every operation but the document itself, which a
// type generator reads without a token: API Gateway's Cognito authorizer
// takes the user's ID token as a bearer token (an OpenID Connect scheme,
// discovered at the issuer), and answers 401 without one.
func security(doc map[string]any, issuer string) {
	if issuer == "" {
		for _, item := range doc["paths"].(map[string]any) {
			for _, op := range item.(map[string]any) {
				op.(map[string]any)["security"] = []any{}
			}
		}
		return
	}
	doc["components"].(map[string]any)["securitySchemes"] = map[string]any{
		"signIn": map[string]any{
			"type":             "openIdConnect",
			"openIdConnectUrl": issuer + "/.well-known/openid-configuration",
			"description":      "Cognito's user pool: send the signed-in user's ID token as Authorization: Bearer <token>",
		},
	}
	for path, item := range doc["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			op := op.(map[string]any)
			if path == "/openapi.json" {
				op["security"] = []any{}
				continue
			}
			op["security"] = []any{map[string]any{"signIn": []any{}}}
			op["responses"].(map[string]any)["401"] = response("No valid token: sign in, and send the ID token", ref("Error"))
		}
	}
}

func ref(name string) *model.Schema { return &model.Schema{Ref: "#/components/schemas/" + name} }

func jsonContent(s *model.Schema) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": s}}
}

func response(description string, s *model.Schema) map[string]any {
	return map[string]any{"description": description, "content": jsonContent(s)}
}

// errorSchema is the envelope of every error, the function's and API
// Gateway's own (internal/apierror).
func errorSchema() *model.Schema {
	return &model.Schema{
		Type: "object", Required: []string{"error"},
		Properties: map[string]*model.Schema{"error": {
			Type: "object", Required: []string{"code", "message"},
			Properties: map[string]*model.Schema{
				"code":    {Type: "string", Description: "invalid_input, invalid_body, not_found, method_not_allowed, payload_too_large, unsupported_media_type, or API Gateway's response type"},
				"message": {Type: "string"},
			},
		}},
	}
}

// modelSchema is GET /model's answer (model.Public).
func modelSchema() *model.Schema {
	str, num, integer, boolean := &model.Schema{Type: "string"}, &model.Schema{Type: "number"}, &model.Schema{Type: "integer"}, &model.Schema{Type: "boolean"}
	strings := &model.Schema{Type: "array", Items: str}
	return &model.Schema{
		Type:     "object",
		Required: []string{"name", "title", "version", "task", "family", "target", "features", "missing_values", "max_batch"},
		Properties: map[string]*model.Schema{
			"name": str, "title": str, "description": str, "version": str, "family": str,
			"task":   {Type: "string", Enum: []any{model.Classification, model.Regression}},
			"target": str, "target_description": str, "target_unit": str,
			"features": {Type: "array", Items: &model.Schema{
				Type: "object", Required: []string{"name", "description", "type", "missing"},
				Properties: map[string]*model.Schema{
					"name": str, "description": str, "unit": str, "min_exclusive": num, "max": num,
					"type":       {Type: "string", Enum: []any{model.TypeNumber, model.TypeCategory}},
					"categories": {Type: "array", Description: "a category's values: strings, or numbers used as labels", Items: &model.Schema{AnyOf: []*model.Schema{str, num}}},
					"missing":    {Type: "string", Description: "what null does: refused, imputed, routed (the trees learned where it goes) or category"},
					"unknown":    {Type: "string", Description: "a category's unseen value: refused, or what the encoder does with it"},
				},
			}},
			"classes": strings,
			"examples": {Type: "array", Items: &model.Schema{
				Type: "object", Required: []string{"label", "values"},
				Properties: map[string]*model.Schema{"label": str, "values": {Type: "array", Description: "in feature order, as a request holds them", Items: &model.Schema{AnyOf: []*model.Schema{{Type: "string", Nullable: true}, {Type: "number", Nullable: true}}}}},
			}},
			"missing_values": boolean,
			"max_batch":      integer,
			"metrics":        {Type: "object"},
		},
	}
}
