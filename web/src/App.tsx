import { useSession } from './api/hooks.ts'
import { Layout } from './components/Layout.tsx'
import { ErrorNote } from './components/ErrorNote.tsx'
import { InsightPage } from './pages/Insight.tsx'
import { WorkflowInsightPage } from './pages/insight/WorkflowInsight.tsx'
import { MessagesPage } from './pages/Messages.tsx'
import { EventsPage } from './pages/Events.tsx'
import { RunDetailPage } from './pages/RunDetail.tsx'
import { RunsPage } from './pages/Runs.tsx'
import { SignInPage } from './pages/SignIn.tsx'
import { storeOrSettingsPage } from './pages/store/routes.tsx'
import { WorkflowDetailPage } from './pages/WorkflowDetail.tsx'
import { WorkflowEditorPage } from './pages/WorkflowEditor.tsx'
import { WorkflowsPage } from './pages/Workflows.tsx'
import { match, navigate, useLocation } from './router.tsx'

export function App() {
  const session = useSession()
  const { path } = useLocation()

  if (session.isPending) return <p className="loading">Loading…</p>
  if (session.isError)
    return (
      <main className="signin">
        <ErrorNote error={session.error} />
      </main>
    )
  if (!session.data) return <SignInPage />
  if (path === '/' || path === '/sign-in') {
    navigate('/workflows', { replace: true })
    return null
  }
  return (
    <Layout session={session.data} path={path}>
      <Page path={path} />
    </Layout>
  )
}

function Page({ path }: { path: string }) {
  if (path === '/workflows') return <WorkflowsPage />
  const editing = match('/workflows/:id/edit', path)
  if (editing) return <WorkflowEditorPage id={editing.id!} />
  const workflow = match('/workflows/:id', path)
  if (workflow) return <WorkflowDetailPage id={workflow.id!} />
  if (path === '/runs') return <RunsPage />
  const run = match('/runs/:id', path)
  if (run) return <RunDetailPage id={run.id!} />
  if (path === '/messages') return <MessagesPage />
  if (path === '/events') return <EventsPage />
  if (path === '/insight') return <InsightPage />
  const insight = match('/insight/workflows/:id', path)
  if (insight) return <WorkflowInsightPage id={insight.id!} />
  const storeOrSettings = storeOrSettingsPage(path)
  if (storeOrSettings) return storeOrSettings
  return (
    <section>
      <h1>Not found</h1>
      <p>The dashboard has no page at {path}.</p>
    </section>
  )
}
