// ESLint flat config for the editor (web/js) and its node unit tests (tests/js).
// ESLint 9 is pinned (not 10) because it still runs on Debian's nodejs 18, which tools/test.sh installs when node is missing.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    // only our own JS is linted: vendored/ generated files and dependencies are not ours
    ignores: ["node_modules/**", "test-artifacts/**", "demo_build/**", "**/*.min.js"],
  },
  js.configs.recommended,
  {
    files: ["web/js/**/*.js", "web/js/**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.browser },
    },
  },
  {
    // plugin packs' web extensions run in the editor page as classic scripts or modules
    files: ["custom_nodes/**/web/**/*.js", "tests/plugins/packs/**/*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.browser },
    },
  },
  {
    files: ["tests/js/**/*.mjs", "tests/js/**/*.js", "eslint.config.mjs"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.node },
    },
  },
  {
    rules: {
      // an unused argument before a used one is part of a callback's signature; after the last used one it is dead
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none", ignoreRestSiblings: true }],
      // `== null` (null or undefined) is the one deliberate loose comparison
      eqeqeq: ["error", "smart"],
      "no-shadow-restricted-names": "error",
      "prefer-const": ["error", { destructuring: "all" }],
      "no-var": "error",
      "no-self-compare": "error",
      "no-template-curly-in-string": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      "no-constructor-return": "error",
      "no-useless-rename": "error",
      "object-shorthand": ["error", "properties"],
    },
  },
];
