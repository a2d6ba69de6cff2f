/** Cancel and retry from the API: transitions of a run's life, kept in run-lifecycle.ts. */
export { cancelRun, retryRun } from './run-lifecycle.ts'
