import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dev server on :5173 is another origin than make local's site: add
// http://localhost:5173 to dev's allowedOrigins in cdk.json (its preflights,
// the function's ALLOWED_ORIGINS and the sign-in's callbacks follow).
export default defineConfig({ plugins: [react()] });
