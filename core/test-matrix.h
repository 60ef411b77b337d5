/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util/escape.h" /* json_write_string() */

/* The parts of `nspawnctl test` that are data: its option values parsed once into types,
 * the per-image outcome, the line splitter that prefixes output, and the three reports
 * (table, JSON, JUnit XML). libc only, nothing here logs; tests/unit/test-test-matrix.c
 * has the tables. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum TestResult {
        TEST_RESULT_PASS,    /* the command exited 0 */
        TEST_RESULT_FAIL,    /* it exited non-zero, was killed, or could not be executed */
        TEST_RESULT_TIMEOUT, /* the machine ran past --timeout and was stopped */
        TEST_RESULT_ERROR,   /* the machine could not be made, did not boot, or was interrupted */
        TEST_RESULT_SKIPPED, /* never started: interrupted before its turn */
        _TEST_RESULT_MAX,
        _TEST_RESULT_INVALID = -EINVAL,
} TestResult;

const char *test_result_to_string(TestResult r);
TestResult test_result_from_string(const char *s);

#define TEST_JOBS_MAX 64U
#define TEST_IMAGES_MAX 64U
#define TEST_TIMEOUT_MAX_USEC (7ULL * 24 * 3600 * 1000000)
/* An option value longer than this is refused before it is looked at. */
#define TEST_OPTION_MAX 4096

/* Appends the comma-separated image (or template) names of s to *list: each a valid
 * image name, none twice, at most TEST_IMAGES_MAX in all. -EINVAL with *ret_bad pointing at
 * a copy of the offending item (or NULL for an empty list), -EEXIST for a name given twice,
 * -E2BIG for too many. */
int test_name_list_parse(const char *s, char ***list, char **ret_bad);

/* --jobs=N: 1..TEST_JOBS_MAX. */
int test_jobs_parse(const char *s, unsigned *ret);
/* --timeout=S: seconds ("1.5", "90"), more than 0, at most TEST_TIMEOUT_MAX_USEC. */
int test_timeout_parse(const char *s, uint64_t *ret_usec);

/* --copy=HOSTPATH:PATH: both absolute and normalized (no "..", no "//"), HOSTPATH without
 * ':' (the first one splits). PATH must not be "/". */
typedef struct TestCopy {
        char *source;
        char *destination;
} TestCopy;

void test_copy_done(TestCopy *c);
int test_copy_parse(const char *spec, TestCopy *ret);

/* Splits a byte stream into lines for prefixing: complete lines are handed out as they
 * come; a line longer than TEST_LINE_MAX is cut there; what is left at the end comes out
 * with test_line_buffer_flush(). Lines are passed without their newline. */
#define TEST_LINE_MAX 4096
typedef struct TestLineBuffer {
        char data[TEST_LINE_MAX];
        size_t len;
} TestLineBuffer;

typedef void (*TestLineFunc)(const char *line, size_t len, void *userdata);
void test_line_buffer_feed(TestLineBuffer *b, const char *p, size_t n, TestLineFunc f, void *userdata);
void test_line_buffer_flush(TestLineBuffer *b, TestLineFunc f, void *userdata);

/* A bounded copy of what a machine wrote, for the JUnit report: the first half of the limit
 * and then the most recent bytes, with a marker where bytes were dropped. */
#define TEST_CAPTURE_MAX (256U * 1024)
typedef struct TestCapture {
        char *head;
        size_t head_len;
        char *tail; /* ring of TEST_CAPTURE_MAX / 2 */
        size_t tail_start, tail_len;
        uint64_t dropped;
} TestCapture;

void test_capture_done(TestCapture *c);
int test_capture_append(TestCapture *c, const char *p, size_t n);
/* The captured text as one NUL-terminated string (bytes dropped in the middle noted). */
int test_capture_text(const TestCapture *c, char **ret);

typedef struct TestOutcome {
        const char *image;
        TestResult result;
        int exit_status;        /* the command's, -1 if it has none */
        uint64_t duration_usec;
        uint64_t setup_usec;    /* from starting the runtime until the machine ran; 0: never */
        const char *log_path;   /* NULL without --log-dir */
        const char *message;    /* why, for fail/timeout/error; NULL */
        const char *output;     /* the command's output, for JUnit; NULL */
        const char *console;    /* the boot console, for JUnit; NULL */
} TestOutcome;

/* A table for people; image names and messages escaped for a terminal. */
int test_report_table(FILE *f, const TestOutcome *o, size_t n);
/* {"results":[{"image":..,"result":..,"exit_status":..,"duration_usec":..,"setup_usec":..,
 * "log":..,"message":..},...],"pass":N,"fail":N,...} on one line. */
int test_report_json(FILE *f, const TestOutcome *o, size_t n);
/* One <testsuite name="suite"> with a <testcase> per image: <failure> for fail and timeout,
 * <error> for error, <skipped/>, and <system-out>/<system-err>. Text that XML 1.0 cannot
 * carry (control characters, invalid UTF-8) becomes U+FFFD. timestamp: CLOCK_REALTIME usec. */
int test_report_junit(FILE *f, const char *suite, const TestOutcome *o, size_t n, uint64_t timestamp);

/* Writes s as XML character data (also fit for an attribute value in double quotes). */
void xml_write_escaped(FILE *f, const char *s);
