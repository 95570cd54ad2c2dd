/* rollwork.c — rollup counting on a worker thread (see rollwork.h).
 *
 * A ring of a few batches: the writer fills the slot after the queued ones and submits it, the
 * worker counts the oldest. A slot stays queued until it is counted, so an empty queue means
 * the worker is idle and every cell is up to date; the mutex orders the cells it wrote before
 * whoever drains reads them. */
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "rollwork.h"

#define QUEUE 4 /* batches in flight: enough to ride out a slow block, little memory */

struct la_rollwork {
    uint32_t nroles;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    la_rollbatch slot[QUEUE];
    unsigned head, count; /* queued: slot[head], ... slot[(head + count - 1) % QUEUE] */
    int stop;
};

int la_rollbatch_count(const la_rollbatch *b, uint32_t nroles)
{
    for (uint32_t i = 0; i < b->n; i++) {
        int rc = la_cellset_add(b->cs, b->hour[i], b->id + (size_t)i * nroles, b->visitor[i], b->session[i],
                                b->value[i]);
        if (rc != LA_OK)
            return rc;
    }
    return LA_OK;
}

static void *worker(void *arg)
{
    la_rollwork *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->count == 0 && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->count == 0)
            break;
        la_rollbatch *b = &w->slot[w->head];
        pthread_mutex_unlock(&w->mu);
        if (!b->cs->uncounted && la_rollbatch_count(b, w->nroles) != LA_OK)
            b->cs->uncounted = 1;
        pthread_mutex_lock(&w->mu);
        w->head = (w->head + 1) % QUEUE;
        w->count--;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

la_rollwork *la_rollwork_new(uint32_t nroles)
{
    la_rollwork *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->nroles = nroles;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    /* the application's signals are not ours to receive: the thread starts with all blocked */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->done);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    pthread_setname_np(w->thread, LA_ROLLWORK_THREAD_NAME); /* for top -H, gdb, the tests */
    return w;
}

void la_rollwork_free(la_rollwork *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL); /* it counts what is queued first */
    for (int i = 0; i < QUEUE; i++)
        la_rollbatch_free(&w->slot[i]);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void la_rollbatch_free(la_rollbatch *b)
{
    free(b->visitor); /* the block every array is carved from */
    memset(b, 0, sizeof *b);
}

int la_rollbatch_reserve(la_rollbatch *b, uint32_t n, uint32_t nroles)
{
    b->n = 0;
    if (n <= b->cap)
        return 1;
    /* one block: the 8-byte columns first, so that each array stays aligned */
    size_t rows = n, bytes = rows * (3 * sizeof(uint64_t) + sizeof(int32_t) + nroles * sizeof(uint32_t));
    uint8_t *block = malloc(bytes);
    if (!block)
        return 0;
    free(b->visitor);
    b->visitor = (uint64_t *)(void *)block;
    b->session = b->visitor + rows;
    b->value = (int64_t *)(void *)(b->session + rows);
    b->hour = (int32_t *)(void *)(b->value + rows);
    b->id = (uint32_t *)(void *)(b->hour + rows);
    b->cap = n;
    return 1;
}

la_rollbatch *la_rollwork_reserve(la_rollwork *w, uint32_t n)
{
    pthread_mutex_lock(&w->mu);
    while (w->count == QUEUE)
        pthread_cond_wait(&w->done, &w->mu);
    la_rollbatch *b = &w->slot[(w->head + w->count) % QUEUE];
    pthread_mutex_unlock(&w->mu);
    /* not queued, so the worker does not touch it */
    return la_rollbatch_reserve(b, n, w->nroles) ? b : NULL;
}

void la_rollwork_submit(la_rollwork *w, la_cellset *cs)
{
    pthread_mutex_lock(&w->mu);
    w->slot[(w->head + w->count) % QUEUE].cs = cs;
    w->count++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
}

void la_rollwork_drain(la_rollwork *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->count)
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
}
