/* A stand-in "sshd" for runbench's integration tests: a process named sshd that does nothing.
 * It waits in pause() forever and exits 0 on SIGTERM or SIGINT (as PID 1 in a container, a signal
 * without a handler is ignored, so the handler is what makes `docker stop` fast).
 * Build: gcc -static -Os -s -o sshd sshd.c */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void on_term(int sig) {
    (void)sig;
    _exit(0);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (;;)
        pause();
    return 0;
}
