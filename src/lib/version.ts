/** storeflow's version (package.json's): `storeflow --version`, and each worker's in GET /api/v1/workers. */
export const STOREFLOW_VERSION = '0.1.0'
