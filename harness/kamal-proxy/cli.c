/* kamal-proxy CLI client: /usr/local/bin/kamal-proxy in the stand-in's image.
 * Starting node costs ~40 ms per `docker exec kamal-proxy kamal-proxy ...` that the real (Go)
 * kamal-proxy does not; so this sends argv to the running server (POST /cli on its control
 * socket), which runs the CLI's logic (lib/cli.js) and answers with the exit code, stdout and
 * stderr: "<code>\n<stdout length>\n<stdout><stderr>".
 * It execs the node CLI (kamal-proxy.js, same argv) instead for `run`, when KAMAL_PROXY_SOCKET is
 * not set (the image sets it to lib/paths.js's socketPath(), the one definition), and when the
 * socket does not accept the connection: node then gives exactly today's answer (usage, version,
 * or its "failed to connect" error).
 * Build: gcc -O2 -static -o kamal-proxy cli.c [-DKP_NODE=\"...\" -DKP_SCRIPT=\"...\"] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef KP_NODE
#define KP_NODE "/usr/bin/node"
#endif
#ifndef KP_SCRIPT
#define KP_SCRIPT "/opt/kamal-proxy/kamal-proxy.js"
#endif

static void exec_node(int argc, char **argv) {
  char **args = calloc(argc + 2, sizeof *args);
  args[0] = KP_NODE;
  args[1] = KP_SCRIPT;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execv(KP_NODE, args);
  perror("kamal-proxy: exec " KP_NODE);
  exit(127);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

static int fail(const char *msg) {
  fprintf(stderr, "Error: %s\n", msg);
  return 1;
}

int main(int argc, char **argv) {
  const char *path = getenv("KAMAL_PROXY_SOCKET");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (argc > 1 && strcmp(argv[1], "run") == 0) exec_node(argc, argv);
  if (!path || strlen(path) >= sizeof addr.sun_path) exec_node(argc, argv);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) exec_node(argc, argv);

  /* request: HTTP/1.0, body = every argument followed by a NUL byte */
  size_t body = 0;
  for (int i = 1; i < argc; i++) body += strlen(argv[i]) + 1;
  char head[128];
  int n = snprintf(head, sizeof head, "POST /cli HTTP/1.0\r\nContent-Length: %zu\r\n\r\n", body);
  int bad = write_all(fd, head, (size_t)n);
  for (int i = 1; i < argc && !bad; i++) bad = write_all(fd, argv[i], strlen(argv[i]) + 1);
  if (bad) return fail("failed to send the command to the kamal-proxy server");

  /* reply: read to EOF (HTTP/1.0: the server closes the connection), then skip the headers */
  size_t len = 0, cap = 1 << 16;
  char *buf = malloc(cap + 1);
  for (ssize_t r; (r = read(fd, buf + len, cap - len)) > 0;) {
    len += (size_t)r;
    if (len == cap) buf = realloc(buf, (cap *= 2) + 1);
  }
  buf[len] = '\0';
  if (len == 0) /* the server closed without answering: what node's client reports then */
    return fail("failed to connect to the kamal-proxy server (ECONNRESET); is \"kamal-proxy run\" running?");
  char *p = strstr(buf, "\r\n\r\n"), *end = buf + len, *e;
  if (!p || strncmp(buf, "HTTP/1.1 200 ", 13) != 0) return fail("bad reply from the kamal-proxy server");
  int code = (int)strtol(p + 4, &e, 10);
  if (*e != '\n') return fail("bad reply from the kamal-proxy server");
  size_t out_len = strtoul(e + 1, &p, 10);
  if (*p != '\n' || out_len > (size_t)(end - p - 1)) return fail("bad reply from the kamal-proxy server");
  p++;
  write_all(1, p, out_len);
  write_all(2, p + out_len, (size_t)(end - p) - out_len);
  return code;
}
