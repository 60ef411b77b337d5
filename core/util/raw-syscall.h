/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* System calls that return -errno instead of setting errno. For code that runs on memory
 * and thread-local storage it shares with a running process (a clone(CLONE_VM) child): the
 * libc wrappers would write that process's errno at any moment. Only where the instruction
 * is known; elsewhere RAW_SYSCALL_SUPPORTED is 0 and callers take another path. */

#if defined(__x86_64__)
#define RAW_SYSCALL_SUPPORTED 1
static inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        long ret;

        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return ret;
}
#elif defined(__aarch64__)
#define RAW_SYSCALL_SUPPORTED 1
static inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        register long x4 __asm__("x4") = e;
        register long x5 __asm__("x5") = f;

        __asm__ volatile("svc 0"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                         : "memory", "cc");
        return x0;
}
#else
#define RAW_SYSCALL_SUPPORTED 0
static inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
        return -38; /* ENOSYS */
}
#endif

#define raw_syscall(n, a, b, c) raw_syscall6((n), (long) (a), (long) (b), (long) (c), 0, 0, 0)
