import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const here = fileURLToPath(new URL('.', import.meta.url))

/**
 * The dashboard: `npm run build:web` (run by `npm install`) writes web/dist/, which `storeflow serve`
 * serves at `/`. `npx vite --config web/vite.config.ts` serves it with hot reload, the API proxied
 * to a `storeflow serve` on port 3000.
 */
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // one vendor chunk: React Flow and the charts are most of the weight and change less than the app
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
})
