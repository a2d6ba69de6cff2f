import { Background, type Connection, Controls, type Edge, Handle, MarkerType, type Node, Position, ReactFlow, useNodesState } from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { useEffect, useMemo } from 'react'
import type { StepSpec } from '../../../../src/contracts/workflow.ts'
import { layoutWorkflow } from '../workflow-graph-layout.ts'

interface StepData extends Record<string, unknown> {
  title: string
  detail: string
  kind: string
}

function StepNode({ data }: { data: StepData }) {
  return (
    <div className={`step-node step-${data.kind}`}>
      <Handle type="target" position={Position.Top} />
      <span className="step-kind">{data.kind}</span>
      <strong>{data.title}</strong>
      {data.detail ? <span className="step-detail">{data.detail}</span> : null}
      <Handle type="source" position={Position.Bottom} />
    </div>
  )
}

const nodeTypes = { step: StepNode }

/**
 * The editor's graph, laid out as the read-only one (workflow-graph-layout.ts): a click selects a
 * step, a step dropped onto another takes its place, and an arrow drawn from one step to another
 * puts the second right after the first. The file is the truth: every gesture becomes a YAML edit,
 * and the graph is laid out again from it.
 */
export function EditableGraph({
  steps,
  trigger,
  selected,
  onSelect,
  onDrop,
  onConnect,
}: {
  steps: StepSpec[]
  trigger: string
  selected: string | null
  onSelect: (nodeId: string) => void
  onDrop: (nodeId: string, ontoNodeId: string) => void
  onConnect: (sourceId: string, targetId: string) => void
}) {
  const laid = useMemo(() => layoutWorkflow(steps, trigger), [steps, trigger])
  const initial = useMemo(
    () =>
      laid.nodes.map(
        (n): Node<StepData> => ({
          id: n.id,
          type: 'step',
          position: { x: n.x, y: n.y },
          data: { title: n.title, detail: n.detail, kind: n.kind },
          ariaLabel: `${n.kind}: ${n.title}${n.detail ? `, ${n.detail}` : ''}`,
          selected: n.id === selected,
          draggable: n.id !== 'trigger',
        }),
      ),
    [laid, selected],
  )
  const [nodes, setNodes, onNodesChange] = useNodesState(initial)
  // a new layout (the file changed) puts every node back where the layout says
  useEffect(() => setNodes(initial), [initial, setNodes])
  const edges: Edge[] = useMemo(
    () => laid.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, label: e.label, markerEnd: { type: MarkerType.ArrowClosed } })),
    [laid],
  )

  const drop = (_event: unknown, node: Node) => {
    let nearest: { id: string; distance: number } | null = null
    for (const other of laid.nodes) {
      if (other.id === node.id || other.id === 'trigger') continue
      const distance = Math.hypot(other.x - node.position.x, other.y - node.position.y)
      if (!nearest || distance < nearest.distance) nearest = { id: other.id, distance }
    }
    // dropped near another step (within about half a box): it takes that step's place
    if (nearest && nearest.distance < 80) onDrop(node.id, nearest.id)
    else setNodes(initial)
  }

  return (
    <section className="graph" aria-label="Workflow steps as a graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onNodeClick={(_event, node) => onSelect(node.id)}
        onNodeDragStop={drop}
        onConnect={(c: Connection) => c.source && c.target && c.source !== c.target && onConnect(c.source, c.target)}
        nodesConnectable
        elementsSelectable
        fitView
        minZoom={0.2}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </section>
  )
}
