// Lint rules: typescript-eslint's recommended set, with `any` forbidden so types stay the spec.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "test/fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  {
    // The console's page script runs in the browser, as plain JavaScript.
    files: ["src/console/assets/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { window: "readonly", document: "readonly", location: "readonly", fetch: "readonly", EventSource: "readonly", console: "readonly" },
    },
  },
);
