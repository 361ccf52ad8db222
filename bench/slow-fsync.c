/*
 * A slower disk, for measuring how the signing path behaves when fsync takes as long as it does on
 * network block storage (1-2 ms) or a busy disk (5-10 ms) rather than this machine's ~0.25 ms:
 * every fsync and fdatasync of the process first sleeps FSYNC_DELAY_US microseconds (default 2000).
 * Not part of `npm run bench`; build and preload it by hand (docs/performance.md has the runs):
 *
 *   gcc -shared -fPIC -O2 -o /tmp/slow-fsync.so bench/slow-fsync.c -ldl
 *   LD_PRELOAD=/tmp/slow-fsync.so FSYNC_DELAY_US=8000 npx tsx bench/profile.ts sign
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static void pause_for_disk(void) {
  const char *v = getenv("FSYNC_DELAY_US");
  long us = v ? atol(v) : 2000;
  struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
  nanosleep(&ts, NULL);
}
int fsync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fsync"); pause_for_disk(); return real(fd); }
int fdatasync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fdatasync"); pause_for_disk(); return real(fd); }
