import { Background, Controls, type Edge, Handle, MarkerType, type Node, Position, ReactFlow } from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { useMemo } from 'react'
import type { StepSpec } from '../../../src/contracts/workflow.ts'
import { layoutWorkflow } from './workflow-graph-layout.ts'

interface StepData extends Record<string, unknown> {
  title: string
  detail: string
  kind: string
}

function StepNode({ data }: { data: StepData }) {
  return (
    <div className={`step-node step-${data.kind}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <span className="step-kind">{data.kind}</span>
      <strong>{data.title}</strong>
      {data.detail ? <span className="step-detail">{data.detail}</span> : null}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  )
}

const nodeTypes = { step: StepNode }

/** The workflow's steps as a graph, read-only (the editor comes later): React Flow draws, we lay out. */
export function WorkflowGraph({ steps, trigger }: { steps: StepSpec[]; trigger: string }) {
  const { nodes, edges } = useMemo(() => {
    const laid = layoutWorkflow(steps, trigger)
    const nodes: Node<StepData>[] = laid.nodes.map((n) => ({
      id: n.id,
      type: 'step',
      position: { x: n.x, y: n.y },
      data: { title: n.title, detail: n.detail, kind: n.kind },
      ariaLabel: `${n.kind}: ${n.title}${n.detail ? `, ${n.detail}` : ''}`,
    }))
    const edges: Edge[] = laid.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      label: e.label,
      markerEnd: { type: MarkerType.ArrowClosed },
    }))
    return { nodes, edges }
  }, [steps, trigger])

  return (
    <section className="graph" aria-label="Workflow steps as a graph">
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} nodesDraggable={false} nodesConnectable={false} elementsSelectable fitView minZoom={0.2}>
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </section>
  )
}
