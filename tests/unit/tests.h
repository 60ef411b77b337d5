/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny test framework: TEST(name) { ... } registers a test via a constructor;
 * ASSERT_* print the failing expression and end that test. main() runs all of them and
 * prints "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase {
        const char *name;
        void (*func)(int *failed);
        struct TestCase *next;
} TestCase;

extern TestCase *test_cases;

#define TEST(n)                                                                            \
        static void test_##n(int *_failed_);                                               \
        static TestCase _tc_##n = { #n, test_##n, NULL };                                  \
        __attribute__((constructor)) static void _register_##n(void) {                     \
                TestCase **p = &test_cases;                                                \
                while (*p)                                                                 \
                        p = &(*p)->next;                                           \
                *p = &_tc_##n;                                                             \
        }                                                                                  \
        static void test_##n(int *_failed_)

#define ASSERT_TRUE(expr)                                                                  \
        do {                                                                               \
                if (!(expr)) {                                                             \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, \
                                #expr);                                                    \
                        *_failed_ = 1;                                                     \
                        return;                                                            \
                }                                                                          \
        } while (0)
#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))
#define ASSERT_EQ(a, b)                                                                    \
        do {                                                                               \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                    \
                if (_a_ != _b_) {                                                          \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,  \
                                __LINE__, #a, #b, _a_, _b_);                               \
                        *_failed_ = 1;                                                     \
                        return;                                                            \
                }                                                                          \
        } while (0)
#define ASSERT_STREQ(a, b)                                                                 \
        do {                                                                               \
                const char *_a_ = (a), *_b_ = (b);                                         \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0) {                               \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",        \
                                __FILE__, __LINE__, #a, #b, _a_ ?: "(null)", _b_ ?: "(null)"); \
                        *_failed_ = 1;                                                     \
                        return;                                                            \
                }                                                                          \
        } while (0)
#define ASSERT_OK(expr)                                                                    \
        do {                                                                               \
                long long _r_ = (long long) (expr);                                        \
                if (_r_ < 0) {                                                             \
                        fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, \
                                strerror((int) -_r_));                                     \
                        *_failed_ = 1;                                                     \
                        return;                                                            \
                }                                                                          \
        } while (0)
#define ASSERT_ERROR(expr, err) ASSERT_EQ((expr), -(err))
