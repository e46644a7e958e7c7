import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the app with hot reload and proxies the api (NEST_API_URL, default the
// port `nest dev` uses). The production build is served by the api itself (same origin).
const api = process.env.NEST_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/v1": { target: api, changeOrigin: false } },
  },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
  },
});
