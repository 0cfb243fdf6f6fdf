import { displayPlaceholders } from '../execute/placeholders'
import { RUNNER, uploadLine, type Plan, type Stage, type Step } from './steps'

/** One line per step, as `command: plan` prints it and a person reads it. */
export function describeStep(step: Step, role?: string): string[] {
  const prefix = role ? `[${role}] ` : ''
  const note = (text?: string) => (text ? `  # ${text}` : '')
  const guard = step.when ? `  # only if there is <${step.when.replace(/_/g, ' ')}>` : step.unless ? `  # only without <${step.unless.replace(/_/g, ' ')}>` : ''
  const show = (command: string) => displayPlaceholders(command)
  switch (step.kind) {
    case 'exec':
      return [`${prefix}${show(step.command)}${note(step.note)}${guard}`]
    case 'upload':
      return [`${prefix}${uploadLine(step, { described: true })}`]
    case 'lock':
      return [`${prefix}${show(step.command)}${note(step.note)}`, `${prefix}# when held: ${step.status}`]
    case 'proxy-version':
      return [`${prefix}${step.command}${note(step.note)}`]
    case 'stale': {
      const survey = `${prefix}${step.survey}${step.staleInto ? '  # the running versions other than the current one stop once the image is pulled' : ''}`
      const serving = step.serving ? [`${prefix}${step.serving.command}  # only when a stale version is found: the version kamal-proxy routes to is the current one, whatever latest names`] : []
      const stop = step.staleInto ? [] : [`${prefix}${show(step.stop)}  # for each running version other than the current one`]
      return [survey, ...serving, ...stop]
    }
    case 'stop-stale':
      return [`${prefix}${show(step.stop)}  # for each stale version found under the lock`]
    case 'clash':
      return [`${prefix}${step.find}  # a container of this version exists already?`, `${prefix}${show(step.audit)}  # only then`, `${prefix}${show(step.rename)}  # only then`]
    case 'barrier-wait':
      return [`${prefix}# wait: ${step.note}`]
    case 'barrier-open':
      return [`${prefix}# healthy: ${step.note}`]
    case 'all-healthy':
      return [`${prefix}# wait: ${step.note}`]
    case 'health':
      return [`${prefix}${step.command}${note(step.note)}`]
    case 'ensure-docker':
      return [`${prefix}docker -v  # Docker present, else installed where Kamal would (root or sudo)`]
    case 'skip-if':
      return [`${prefix}${step.command}  # ${step.message.replace(/ on \S+,/, ' when')}`]
    case 'require-version':
      return [`${prefix}${step.command}${note(step.note)}`]
    case 'report':
      return [`${prefix}${step.command}`]
    case 'serving':
      return [`${prefix}${step.command}${note(step.note)}`]
    case 'runner':
      return [...(step.skipIf ? [`${step.skipIf.display}  # ${step.purpose} only if this fails`] : []), `${step.display}  # ${step.purpose}${step.stdin ? ', password on stdin' : ''}`]
    case 'hook':
      return [`# hook ${step.hook} (KAMAL_HOSTS=${step.hosts.join(',')})`]
    case 'sleep':
      return [`sleep ${step.seconds}`]
    case 'ship':
      return [`# ${step.note}`]
    case 'connect':
      return ['# open the SSH connection']
    case 'clone':
      return [...step.steps.map((inner) => `${inner.display}  # ${inner.purpose}`), `# the clone must be clean and at ${step.revision.slice(0, 12)}, else it is deleted and cloned once more`]
    case 'builder-ssh':
      return [`# ${step.directory}/ssh: ${step.note}`]
    case 'remove-directory':
      return [`rm -rf ${step.path}  # ${step.note ?? ''}`]
    case 'stream':
    case 'show':
      return [`${prefix}${show(step.command)}  # output shown under "${step.heading}"${step.kind === 'show' && step.otherwise ? `; "${step.otherwise}" when it fails` : ''}`]
    case 'share':
      return [`${prefix}${show(step.command)}  # gives <${step.name.replace(/_/g, ' ')}> to the steps after${step.fallback ? ` (else ${step.fallback})` : ''}`]
    case 'digest':
      return [`${step.display}  # the pushed image's digest (digest output)`, ...(step.fallback ? [`${step.fallback.display}  # if that cannot read the registry`] : [])]
  }
}

export function phaseTitle(stage: Stage): string {
  return stage.title
}

/** Steps grouped by place, then by stage in run order. */
export function groupPlan(plan: Plan): Array<{ place: string; stages: Array<{ stage: Stage; lines: string[] }> }> {
  const places = [RUNNER, ...plan.hosts].filter((place) => plan.stages.some((stage) => stage.lanes.some((lane) => lane.place === place)))
  return places.map((place) => ({
    place,
    stages: plan.stages
      .map((stage) => ({ stage, lines: stage.lanes.filter((lane) => lane.place === place).flatMap((lane) => lane.units.flatMap((unit) => unit.steps.flatMap((step) => describeStep(step, unit.role)))) }))
      .filter((group) => group.lines.length > 0),
  }))
}

export function planHeadline(plan: Plan): string {
  const destination = plan.destination ? ` to ${plan.destination}` : ''
  const command = [plan.command, plan.subcommand, plan.argument].filter(Boolean).join(' ')
  return `Plan: ${command} ${plan.service}${destination}, version ${plan.version} (${plan.image}) on ${plan.hosts.length} host(s): ${plan.hosts.join(', ')}; primary ${plan.primaryHost}`
}

/** Plain-text lines for the log, one block per place and stage. */
export function planAsText(plan: Plan): Array<{ title: string; lines: string[] }> {
  return groupPlan(plan).flatMap(({ place, stages }) => stages.map(({ stage, lines }) => ({ title: `${place} · ${stage.title}`, lines })))
}

const fence = (body: string) => `\`\`\`sh\n${body.replace(/```/g, '`\u200b``')}\n\`\`\``

/** Markdown for `command: plan`: a table of hosts × roles, then every step per place, collapsed. */
export function planAsMarkdown(plan: Plan): string {
  const groups = groupPlan(plan)
  const rows = plan.hosts.map((host) => {
    const roles = [...new Set(plan.stages.flatMap((stage) => stage.lanes.filter((lane) => lane.place === host).flatMap((lane) => lane.units.map((unit) => unit.role)).filter(Boolean)))]
    const stages = groups.find((group) => group.place === host)?.stages.map(({ stage }) => stage.title) ?? []
    return `| ${host}${host === plan.primaryHost ? ' (primary)' : ''} | ${roles.join(', ') || '—'} | ${[...new Set(stages)].join(' → ')} |`
  })
  const blocks = groups.map(({ place, stages }) => {
    const body = stages.map(({ stage, lines }) => `# ${stage.title}${stage.waitsFor ? ` (after ${stage.waitsFor})` : ''}\n${lines.join('\n')}`).join('\n\n')
    return `<details><summary>${place === RUNNER ? 'local (runner)' : place}</summary>\n\n${fence(body)}\n\n</details>`
  })
  return [
    `### ${plan.command} plan for \`${plan.service}\`${plan.destination ? ` → \`${plan.destination}\`` : ''}`,
    '',
    `Version \`${plan.version}\`, image \`${plan.image}\`, primary host \`${plan.primaryHost}\`. Nothing was run: this is what a \`${plan.command}\` would do.`,
    '',
    '| Host | Roles | Stages |',
    '| --- | --- | --- |',
    ...rows,
    '',
    ...blocks,
    '',
  ].join('\n')
}
