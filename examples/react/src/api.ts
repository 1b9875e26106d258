// A typed client of the API: its paths, bodies and answers come from the
// types openapi-typescript generated from GET /openapi.json (npm run types).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type PredictRequest = components["schemas"]["PredictRequest"];

export function apiClient(apiUrl: string) {
  return createClient<paths>({ baseUrl: apiUrl });
}
