import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/** A Kamal project in its own git repository, as a user's repo would be. */
export class AppProject {
  readonly dir: string

  constructor(files: Record<string, string>) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-app-'))
    this.git('init', '-q', '-b', 'main')
    this.git('config', 'user.email', 'deployer@example.com')
    this.git('config', 'user.name', 'Deployer')
    this.write(files)
    this.commit('initial')
  }

  write(files: Record<string, string>): void {
    for (const [file, content] of Object.entries(files)) {
      const target = path.join(this.dir, file)
      fs.mkdirSync(path.dirname(target), { recursive: true })
      fs.writeFileSync(target, content)
    }
  }

  remove(file: string): void {
    fs.rmSync(path.join(this.dir, file), { force: true })
  }

  commit(message: string): string {
    this.git('add', '-A')
    this.git('commit', '-q', '--allow-empty', '-m', message)
    return this.git('rev-parse', 'HEAD')
  }

  private git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim()
  }
}

/** A busybox httpd app: GET /version answers the version, /up is the health check unless `healthy` is false. */
export function appFiles(version: string, { healthy = true } = {}): Record<string, string> {
  return {
    Dockerfile: [
      'FROM busybox:harness',
      'COPY www /www',
      healthy ? 'RUN echo ok > /www/up' : 'RUN rm -f /www/up',
      // A worker role runs `cmd`; the web role serves /www.
      // httpd as PID 1 would ignore SIGTERM and make every `docker stop` wait 10 s.
      `CMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -v -p 80 -h /www & wait"]`,
      '',
    ].join('\n'),
    'www/version': `${version}\n`,
    'www/index.html': `<h1>${version}</h1>\n`,
  }
}
