import type { WorkflowFile } from '../contracts/workflow.ts'
import { compileCel, type CompiledExpression } from '../core/cel.ts'
import { compileProgram } from '../core/workflow/compile.ts'
import type { Instruction } from '../core/workflow/program.ts'
import type { StorageTx } from './ports.ts'

export interface CompiledWorkflow {
  storeId: string
  id: string
  version: number
  file: WorkflowFile
  program: Instruction[]
  /** CEL compiled once per version, on first use */
  cel(source: string): CompiledExpression
}

/** Compiled workflow versions, keyed by store, id and version. Versions never change once saved. */
export class WorkflowCache {
  private readonly entries = new Map<string, CompiledWorkflow>()

  /** the compiled version if this process has it, without touching the database */
  peek(storeId: string, id: string, version: number): CompiledWorkflow | null {
    return this.entries.get(`${storeId}\u0000${id}\u0000${version}`) ?? null
  }

  async get(tx: StorageTx, storeId: string, id: string, version: number): Promise<CompiledWorkflow | null> {
    const key = `${storeId}\u0000${id}\u0000${version}`
    const hit = this.entries.get(key)
    if (hit) return hit
    const record = await tx.getWorkflowVersion(storeId, id, version)
    if (!record) return null
    const compiled = compileWorkflow(storeId, record.version, record.definition as WorkflowFile)
    this.entries.set(key, compiled)
    return compiled
  }
}

export function compileWorkflow(storeId: string, version: number, file: WorkflowFile): CompiledWorkflow {
  const expressions = new Map<string, CompiledExpression>()
  return {
    storeId,
    id: file.id,
    version,
    file,
    program: compileProgram(file.steps),
    cel(source) {
      let expr = expressions.get(source)
      if (!expr) {
        expr = compileCel(source)
        expressions.set(source, expr)
      }
      return expr
    },
  }
}
