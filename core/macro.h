/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(x) (sizeof(x) - 1)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand ownership of a pointer or fd on and leave the source empty, so the cleanup
 * attribute of the original variable becomes a no-op. */
#define TAKE_PTR(p)                                                                        \
        ({                                                                                 \
                __typeof__(p) _p_ = (p);                                                   \
                (p) = NULL;                                                                \
                _p_;                                                                       \
        })
#define TAKE_FD(fd)                                                                        \
        ({                                                                                 \
                int _fd_ = (fd);                                                           \
                (fd) = -EBADF;                                                             \
                _fd_;                                                                      \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                            \
        static inline void func##p(type *p) {                                              \
                if (*p)                                                                    \
                        *p = func(*p);                                                     \
        }

/* For library free functions that return void (cap_free, mnt_free_context, ...). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(type, func, name)                                 \
        static inline void name(type *p) {                                                 \
                if (*p)                                                                    \
                        func(*p);                                                          \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void close_pairp(int (*p)[2]) {
        (*p)[0] = safe_close((*p)[0]);
        (*p)[1] = safe_close((*p)[1]);
}
#define _cleanup_close_pair_ _cleanup_(close_pairp)

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || (s)[0] == '\0')
#define strna(s) ((s) ?: "n/a")
#define strempty(s) ((s) ?: "")

/* errno as a negative value that is never 0, for code paths where a libc call failed but
 * might not have set errno. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

#define RET_NERRNO(expr)                                                                   \
        ({                                                                                 \
                __typeof__(expr) _r_ = (expr);                                             \
                _r_ < 0 ? negative_errno() : _r_;                                          \
        })

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Doubly linked lists through "prev" and "next" members, head pointer owned by the caller. */
#define LIST_FIELDS(t) t *prev, *next

#define LIST_PREPEND(head, item)                                                           \
        do {                                                                               \
                __typeof__(*(head)) **_head = &(head), *_item = (item);                    \
                _item->prev = NULL;                                                        \
                _item->next = *_head;                                                      \
                if (*_head)                                                                \
                        (*_head)->prev = _item;                                            \
                *_head = _item;                                                            \
        } while (0)

#define LIST_REMOVE(head, item)                                                            \
        do {                                                                               \
                __typeof__(*(head)) **_head = &(head), *_item = (item);                    \
                if (_item->next)                                                           \
                        _item->next->prev = _item->prev;                                   \
                if (_item->prev)                                                           \
                        _item->prev->next = _item->next;                                   \
                else if (*_head == _item)                                                  \
                        *_head = _item->next;                                              \
                _item->prev = _item->next = NULL;                                          \
        } while (0)

#define LIST_FOREACH(i, head) for (__typeof__(head) i = (head); i; i = i->next)
/* Safe against removal of the current item. */
#define LIST_FOREACH_SAFE(i, n, head)                                                      \
        for (__typeof__(head) i = (head), n = i ? i->next : NULL; i; i = n, n = i ? i->next : NULL)
