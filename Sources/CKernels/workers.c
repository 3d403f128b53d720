// A persistent pool of worker threads for the engine's parallel loops.
//
// A model runs hundreds of operators, many of them a few microseconds long
// on small maps. Waking threads for each one (a dispatch per operator) cost
// about a fifth of the time on such models. Here the workers stay alive and,
// after a job, spin for about a millisecond watching for the next one before
// they sleep, so a job that follows soon starts without a system call.
//
// One job runs at a time. A caller that finds the pool busy (another thread's
// job, or a nested call from inside a job) runs its loop itself.
#include "CKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

enum {
    MAX_WORKERS = 255,
    // Spin iterations before a worker sleeps: with a pause of ~50 ns per
    // iteration, about a millisecond, longer than the gap between operators.
    SPIN = 1 << 14,
};

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// The job's generation and the number of workers it wants, in one word, so
// that a worker reads both at once: (generation << 8) | wanted.
static _Atomic uint64_t announced;
static pthread_mutex_t submitting = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sleeping = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static _Atomic int sleepers;
static size_t started;   // guarded by `submitting`
// SPIN while the workers and the caller fit on this machine's processors; 0
// when they do not, since a spinning worker would then hold a processor
// that another thread of the job needs.
static _Atomic int spin_limit;

// The current job. Written only while no worker of the previous job runs.
static ck_task job_task;
static void *job_context;
static size_t job_count;
static _Atomic size_t job_next;
static _Atomic size_t job_finished;   // wanted workers done with the job

static void work(void) {
    size_t i;
    while ((i = atomic_fetch_add(&job_next, 1)) < job_count) job_task(job_context, i);
}

static void *worker(void *argument) {
    // The argument is (generation << 8) | id, the generation being the one
    // before the job the worker was made for: the thread may start after
    // that job is announced, and must not take it for an old one.
    uint64_t seen = (uint64_t)(uintptr_t)argument >> 8;
    size_t id = (size_t)(uintptr_t)argument & 0xFF;
    for (;;) {
        uint64_t word = atomic_load(&announced);
        int limit = atomic_load_explicit(&spin_limit, memory_order_relaxed);
        for (int spin = 0; spin < limit && word >> 8 == seen; spin++) {
            relax();
            word = atomic_load(&announced);
        }
        if (word >> 8 == seen) {
            pthread_mutex_lock(&sleeping);
            atomic_fetch_add(&sleepers, 1);
            while ((word = atomic_load(&announced)) >> 8 == seen) pthread_cond_wait(&wake, &sleeping);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleeping);
        }
        seen = word >> 8;
        if (id < (word & 0xFF)) {
            work();
            atomic_fetch_add(&job_finished, 1);
        }
    }
    return NULL;
}

// A child made by fork has none of the workers: it starts a pool of its own.
// The parent holds `submitting` across the fork, so that no job is half
// announced in the child's copy of the state.
static void fork_prepare(void) { pthread_mutex_lock(&submitting); }
static void fork_parent(void) { pthread_mutex_unlock(&submitting); }
static void fork_child(void) {
    started = 0;
    atomic_store(&sleepers, 0);
    pthread_mutex_init(&sleeping, NULL);
    pthread_cond_init(&wake, NULL);
    pthread_mutex_unlock(&submitting);
}

// This machine's processors, read once: sysconf reads a file on each call.
static long processors;

static pthread_once_t initialized = PTHREAD_ONCE_INIT;
static void initialize(void) {
    processors = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void ck_parallel(size_t count, size_t threads, ck_task task, void *context) {
    pthread_once(&initialized, initialize);
    if (threads <= 1 || count <= 1 || pthread_mutex_trylock(&submitting) != 0) {
        for (size_t i = 0; i < count; i++) task(context, i);
        return;
    }
    size_t wanted = (threads < count ? threads : count) - 1;
    if (wanted > MAX_WORKERS) wanted = MAX_WORKERS;
    size_t before = started;
    while (started < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        uint64_t argument = (atomic_load(&announced) >> 8) << 8 | started;
        int failed = pthread_create(&thread, &attributes, worker, (void *)(uintptr_t)argument);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        started++;
    }
    if (wanted > started) wanted = started;
    if (started != before) atomic_store(&spin_limit, processors > 0 && started < (size_t)processors ? SPIN : 0);

    job_task = task;
    job_context = context;
    job_count = count;
    atomic_store(&job_next, 0);
    atomic_store(&job_finished, 0);
    uint64_t generation = (atomic_load(&announced) >> 8) + 1;
    atomic_store(&announced, generation << 8 | wanted);
    // A worker counts itself a sleeper before it last looks at `announced`,
    // so either it sees this job or this sees it sleeping.
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleeping);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleeping);
    }
    work();
    while (atomic_load(&job_finished) < wanted) relax();
    pthread_mutex_unlock(&submitting);
}
