// Builds the dashboard into web/dist, which the kiln binary serves (index.html for unknown
// non-/api paths). `npm run dev` proxies /api to a running kiln (KILN_API, default 127.0.0.1:8080).
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const api_target = process.env.KILN_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    // Everything is bundled: the CSP forbids inline scripts and outside hosts.
    assetsInlineLimit: 0,
  },
  server: {
    host: "127.0.0.1",
    // ws: the live-progress WebSocket (/api/v1/workspaces/{ws}/live) goes through the proxy too.
    proxy: { "/api": { target: api_target, changeOrigin: false, ws: true } },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
