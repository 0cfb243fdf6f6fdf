import { LOCAL, PHASES, type DeployPlan, type PlanStep } from './deploy-plan'

const PHASE_TITLES: Record<string, string> = {
  build: 'Build and push',
  pull: 'Pull image',
  lock: 'Acquire deploy lock',
  proxy: 'Ensure kamal-proxy is running',
  stale: 'Detect stale containers',
  boot: 'Boot app',
  tag: 'Tag latest image',
  prune: 'Prune old containers and images',
  unlock: 'Release deploy lock',
}

export function phaseTitle(phase: string): string {
  return PHASE_TITLES[phase] ?? phase
}

function describeStep(step: PlanStep): string {
  const role = step.role ? `[${step.role}] ` : ''
  if (step.upload) {
    const keys = step.upload.keys.length > 0 ? step.upload.keys.join(', ') : 'no secrets'
    return `${role}upload ${step.upload.path} (mode ${step.upload.mode}; ${keys})`
  }
  const note = step.note ? `  # ${step.note}` : ''
  return step.run ? `${role}${step.run}${note}` : `${role}# ${step.note ?? ''}`
}

/** Steps grouped by host, then by phase in deploy order. */
export function groupPlan(plan: DeployPlan): Array<{ host: string; phases: Array<{ phase: string; steps: PlanStep[] }> }> {
  const hosts = [LOCAL, ...plan.hosts].filter((host) => plan.steps.some((step) => step.host === host))
  return hosts.map((host) => ({
    host,
    phases: PHASES.map((phase) => ({ phase, steps: plan.steps.filter((step) => step.host === host && step.phase === phase) })).filter(
      (group) => group.steps.length > 0,
    ),
  }))
}

export function planHeadline(plan: DeployPlan): string {
  const destination = plan.destination ? ` to ${plan.destination}` : ''
  return `Plan: ${plan.command} ${plan.service}${destination}, version ${plan.version} (${plan.image}) on ${plan.hosts.length} host(s): ${plan.hosts.join(', ')}; primary ${plan.primaryHost}`
}

/** Plain-text lines for the log, one block per host and phase. */
export function planAsText(plan: DeployPlan): Array<{ title: string; lines: string[] }> {
  return groupPlan(plan).flatMap(({ host, phases }) =>
    phases.map(({ phase, steps }) => ({ title: `${host === LOCAL ? 'local' : host} · ${phaseTitle(phase)}`, lines: steps.map(describeStep) })),
  )
}

/** Markdown for the job summary: a table of hosts × roles, then every command per host in a collapsible block. */
export function planAsMarkdown(plan: DeployPlan): string {
  const rows = plan.hosts.map((host) => {
    const roles = [...new Set(plan.steps.filter((step) => step.host === host && step.role).map((step) => step.role))]
    const phases = groupPlan(plan).find((group) => group.host === host)?.phases.map((group) => phaseTitle(group.phase)) ?? []
    return `| ${host}${host === plan.primaryHost ? ' (primary)' : ''} | ${roles.join(', ') || '—'} | ${phases.join(' → ')} |`
  })
  const blocks = groupPlan(plan).map(({ host, phases }) => {
    const body = phases.map(({ phase, steps }) => `# ${phaseTitle(phase)}\n${steps.map(describeStep).join('\n')}`).join('\n\n')
    return `<details><summary>${host === LOCAL ? 'local (runner)' : host}</summary>\n\n\`\`\`sh\n${body.replace(/```/g, '`\u200b``')}\n\`\`\`\n\n</details>`
  })
  return [
    `### ${plan.command} plan for \`${plan.service}\`${plan.destination ? ` → \`${plan.destination}\`` : ''}`,
    '',
    `Version \`${plan.version}\`, image \`${plan.image}\`, primary host \`${plan.primaryHost}\`. Nothing was run: this is what a \`${plan.command}\` would do.`,
    '',
    '| Host | Roles | Phases |',
    '| --- | --- | --- |',
    ...rows,
    '',
    ...blocks,
    '',
  ].join('\n')
}
