import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands inside the Go package that embeds it (internal/web/dist/app);
// its hashed file names under assets/ let the server cache them for a year.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../internal/web/dist/app",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
  },
});
