/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "test-matrix.h"
#include "tests.h"
#include "util/strv.h"

TEST(result_table) {
        for (TestResult r = 0; r < _TEST_RESULT_MAX; r++) {
                ASSERT_TRUE(test_result_to_string(r) != NULL);
                ASSERT_EQ(test_result_from_string(test_result_to_string(r)), r);
        }
        ASSERT_STREQ(test_result_to_string(TEST_RESULT_TIMEOUT), "timeout");
        ASSERT_EQ(test_result_from_string("passed"), -EINVAL);
        ASSERT_EQ(test_result_from_string(""), -EINVAL);
        ASSERT_TRUE(test_result_to_string(_TEST_RESULT_MAX) == NULL);
}

static const struct {
        const char *input;
        int ret;
        size_t n;
        const char *bad;
} name_list_table[] = {
        { "bookworm", 0, 1, NULL },
        { "bookworm,trixie,sid", 0, 3, NULL },
        { "debian-bookworm,ubuntu.noble", 0, 2, NULL },
        { "", -EINVAL, 0, NULL },
        { ",", -EINVAL, 0, "" },
        { "a,", -EINVAL, 0, "" },
        { ",a", -EINVAL, 0, "" },
        { "a,,b", -EINVAL, 0, "" },
        { "a,../b", -EINVAL, 0, "../b" },
        { ".base-debian", -EINVAL, 0, ".base-debian" },
        { ".#tmp", -EINVAL, 0, ".#tmp" },
        { "a b", -EINVAL, 0, "a b" },
        { "a\x1b[31m", -EINVAL, 0, "a\x1b[31m" },
        { "a,a", -EEXIST, 0, "a" },
        { "a,b,a", -EEXIST, 0, "a" },
};

TEST(names) {
        for (size_t i = 0; i < ELEMENTSOF(name_list_table); i++) {
                _cleanup_strv_free_ char **l = NULL;
                char *bad = NULL;
                int r = test_name_list_parse(name_list_table[i].input, &l, &bad);
                if (r != name_list_table[i].ret)
                        fprintf(stderr, "input \"%s\"\n", name_list_table[i].input);
                ASSERT_EQ(r, name_list_table[i].ret);
                ASSERT_EQ(strv_length(l), name_list_table[i].n);
                if (name_list_table[i].bad)
                        ASSERT_STREQ(bad, name_list_table[i].bad);
                else
                        ASSERT_TRUE(bad == NULL);
                free(bad);
        }
}

TEST(name_list_accumulates) {
        _cleanup_strv_free_ char **l = NULL;
        char *bad = NULL, big[TEST_OPTION_MAX + 2];

        ASSERT_OK(test_name_list_parse("a,b", &l, &bad));
        ASSERT_OK(test_name_list_parse("c", &l, &bad));
        ASSERT_EQ(strv_length(l), 3);
        ASSERT_STREQ(l[2], "c");
        /* A name given by an earlier option counts too. */
        ASSERT_EQ(test_name_list_parse("d,b", &l, &bad), -EEXIST);
        ASSERT_STREQ(bad, "b");
        free(bad);
        ASSERT_EQ(strv_length(l), 3);

        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        ASSERT_EQ(test_name_list_parse(big, &l, &bad), -E2BIG);
        ASSERT_TRUE(bad == NULL);
}

TEST(name_list_too_many) {
        _cleanup_strv_free_ char **l = NULL;
        char buf[TEST_OPTION_MAX], *bad = NULL;
        size_t k = 0;

        for (unsigned i = 0; i <= TEST_IMAGES_MAX; i++)
                k += snprintf(buf + k, sizeof buf - k, "%si%u", i ? "," : "", i);
        ASSERT_EQ(test_name_list_parse(buf, &l, &bad), -E2BIG);
        ASSERT_EQ(strv_length(l), 0);
}

static const struct {
        const char *input;
        int ret;
        unsigned value;
} jobs_table[] = {
        { "1", 0, 1 },  { "8", 0, 8 },      { "64", 0, 64 },     { "064", 0, 64 },
        { "0", -ERANGE, 0 }, { "65", -ERANGE, 0 }, { "999", -ERANGE, 0 }, { "1000", -EINVAL, 0 },
        { "", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+2", -EINVAL, 0 }, { " 2", -EINVAL, 0 },
        { "2 ", -EINVAL, 0 }, { "two", -EINVAL, 0 }, { "1e1", -EINVAL, 0 }, { "0x4", -EINVAL, 0 },
};

TEST(jobs) {
        for (size_t i = 0; i < ELEMENTSOF(jobs_table); i++) {
                unsigned v = 0;
                ASSERT_EQ(test_jobs_parse(jobs_table[i].input, &v), jobs_table[i].ret);
                if (jobs_table[i].ret == 0)
                        ASSERT_EQ(v, jobs_table[i].value);
        }
        ASSERT_EQ(test_jobs_parse(NULL, &(unsigned) { 0 }), -EINVAL);
}

static const struct {
        const char *input;
        int ret;
        uint64_t usec;
} timeout_table[] = {
        { "1", 0, 1000000 },
        { "90", 0, 90000000 },
        { "1.5", 0, 1500000 },
        { "2s", 0, 2000000 },
        { "604800", 0, 604800000000ULL },
        { "604801", -ERANGE, 0 },
        { "0", -ERANGE, 0 },
        { "0.0", -ERANGE, 0 },
        { "", -EINVAL, 0 },
        { "s", -EINVAL, 0 },
        { "-1", -EINVAL, 0 },
        { ".5", -EINVAL, 0 },
        { "1..5", -EINVAL, 0 },
        { "1.5.2", -EINVAL, 0 },
        { "nan", -EINVAL, 0 },
        { "inf", -EINVAL, 0 },
        { "1e3", -EINVAL, 0 },
        { "0x10", -EINVAL, 0 },
        { "10ms", -EINVAL, 0 },
        { "10 s", -EINVAL, 0 },
        { "1 ", -EINVAL, 0 },
        { "99999999999999999999999999999999999", -EINVAL, 0 },
};

TEST(timeouts) {
        for (size_t i = 0; i < ELEMENTSOF(timeout_table); i++) {
                uint64_t u = 0;
                int r = test_timeout_parse(timeout_table[i].input, &u);
                if (r != timeout_table[i].ret)
                        fprintf(stderr, "input \"%s\"\n", timeout_table[i].input);
                ASSERT_EQ(r, timeout_table[i].ret);
                if (r == 0)
                        ASSERT_EQ(u, timeout_table[i].usec);
        }
}

static const struct {
        const char *input;
        const char *source, *destination; /* NULL: refused */
} copy_table[] = {
        { "/srv/a:/a", "/srv/a", "/a" },
        { "/srv/dir:/usr/local/share/x", "/srv/dir", "/usr/local/share/x" },
        { "/a:/b:c", NULL, NULL },
        { "/a", NULL, NULL },
        { "/a:", NULL, NULL },
        { ":/a", NULL, NULL },
        { "a:/b", NULL, NULL },
        { "/a:b", NULL, NULL },
        { "/a:/", NULL, NULL },
        { "/a/../b:/c", NULL, NULL },
        { "/a:/c/../d", NULL, NULL },
        { "/a//b:/c", NULL, NULL },
        { "/a/:/c", NULL, NULL },
        { "/a\n:/c", NULL, NULL },
        { "", NULL, NULL },
};

TEST(copies) {
        for (size_t i = 0; i < ELEMENTSOF(copy_table); i++) {
                TestCopy c = {};
                int r = test_copy_parse(copy_table[i].input, &c);
                if (!copy_table[i].source) {
                        ASSERT_EQ(r, -EINVAL);
                        ASSERT_TRUE(!c.source && !c.destination);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(c.source, copy_table[i].source);
                ASSERT_STREQ(c.destination, copy_table[i].destination);
                test_copy_done(&c);
        }
}

typedef struct Lines {
        char text[TEST_LINE_MAX * 3];
        size_t n;
} Lines;

static void collect(const char *line, size_t len, void *userdata) {
        Lines *l = userdata;
        snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "<%.*s>", (int) len, line);
        l->n++;
}

TEST(line_buffer) {
        TestLineBuffer b = {};
        Lines l = {};

        test_line_buffer_feed(&b, "one\ntw", 6, collect, &l);
        ASSERT_STREQ(l.text, "<one>");
        test_line_buffer_feed(&b, "o\n\nthree", 8, collect, &l);
        ASSERT_STREQ(l.text, "<one><two><>");
        test_line_buffer_flush(&b, collect, &l);
        ASSERT_STREQ(l.text, "<one><two><><three>");
        test_line_buffer_flush(&b, collect, &l);
        ASSERT_EQ(l.n, 4);
}

TEST(line_buffer_long_line) {
        TestLineBuffer b = {};
        Lines l = {};
        char *big = malloc(TEST_LINE_MAX + 10);

        ASSERT_TRUE(big);
        memset(big, 'x', TEST_LINE_MAX + 10);
        big[TEST_LINE_MAX + 9] = '\n';
        test_line_buffer_feed(&b, big, TEST_LINE_MAX + 10, collect, &l);
        free(big);
        /* Cut once at TEST_LINE_MAX, the rest is its own line. */
        ASSERT_EQ(l.n, 2);
        ASSERT_EQ(strlen(l.text), TEST_LINE_MAX + 9 + 4);
}

TEST(capture) {
        TestCapture c = {};
        char *t = NULL, *big;

        ASSERT_OK(test_capture_append(&c, "hello ", 6));
        ASSERT_OK(test_capture_append(&c, "world", 5));
        ASSERT_OK(test_capture_text(&c, &t));
        ASSERT_STREQ(t, "hello world");
        free(t);
        test_capture_done(&c);

        /* Beyond the limit: the head and the most recent bytes stay, the middle is noted. */
        big = malloc(TEST_CAPTURE_MAX);
        ASSERT_TRUE(big);
        memset(big, 'm', TEST_CAPTURE_MAX);
        ASSERT_OK(test_capture_append(&c, "HEAD", 4));
        ASSERT_OK(test_capture_append(&c, big, TEST_CAPTURE_MAX));
        ASSERT_OK(test_capture_append(&c, "TAIL", 4));
        free(big);
        ASSERT_OK(test_capture_text(&c, &t));
        ASSERT_TRUE(strncmp(t, "HEAD", 4) == 0);
        ASSERT_TRUE(strstr(t, "[... 8 bytes not kept ...]") != NULL);
        ASSERT_TRUE(strlen(t) > 4 && strcmp(t + strlen(t) - 4, "TAIL") == 0);
        ASSERT_TRUE(strlen(t) < TEST_CAPTURE_MAX + 100);
        free(t);
        test_capture_done(&c);
}

static char *render(void (*f)(FILE *, const char *), const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        if (!m)
                return NULL;
        f(m, s);
        fclose(m);
        return buf;
}

static const struct {
        const char *input, *json, *xml;
} escape_table[] = {
        { "plain", "\"plain\"", "plain" },
        { "a\"b\\c", "\"a\\\"b\\\\c\"", "a&quot;b\\c" },
        { "<x>&y", "\"<x>&y\"", "&lt;x&gt;&amp;y" },
        { "t\tn\n", "\"t\\u0009n\\n\"", "t\tn\n" },
        { "cr\r", "\"cr\\u000d\"", "cr&#13;" },
        { "esc\x1b[31m", "\"esc\\u001b[31m\"", "esc\xef\xbf\xbd[31m" },
        { "del\x7f", "\"del\\u007f\"", "del\x7f" },
        { "\xc3\xa9t\xc3\xa9", "\"\xc3\xa9t\xc3\xa9\"", "\xc3\xa9t\xc3\xa9" },
        { "bad\xff", "\"bad\\ufffd\"", "bad\xef\xbf\xbd" },
        { "over\xc0\xaf", "\"over\\ufffd\\ufffd\"", "over\xef\xbf\xbd\xef\xbf\xbd" },
        { "sur\xed\xa0\x80", "\"sur\\ufffd\\ufffd\\ufffd\"", "sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "cut\xe2\x82", "\"cut\\ufffd\\ufffd\"", "cut\xef\xbf\xbd\xef\xbf\xbd" },
        { "", "\"\"", "" },
};

TEST(escapes) {
        for (size_t i = 0; i < ELEMENTSOF(escape_table); i++) {
                char *j = render(json_write_string, escape_table[i].input);
                char *x = render(xml_write_escaped, escape_table[i].input);
                ASSERT_STREQ(j, escape_table[i].json);
                ASSERT_STREQ(x, escape_table[i].xml);
                free(j);
                free(x);
        }
}

static const TestOutcome outcomes[] = {
        { .image = "bookworm", .result = TEST_RESULT_PASS, .exit_status = 0, .duration_usec = 1200000,
          .setup_usec = 30000, .output = "ok\n" },
        { .image = "trixie", .result = TEST_RESULT_FAIL, .exit_status = 3, .duration_usec = 2500000,
          .setup_usec = 40000, .log_path = "/tmp/logs/trixie.log", .message = "exit status 3",
          .output = "<broken> & \x1b[31mred\n" },
        { .image = "sid", .result = TEST_RESULT_TIMEOUT, .exit_status = -1, .duration_usec = 60000000,
          .message = "ran longer than the timeout of 60.0 s", .console = "booting\n" },
        { .image = "bullseye", .result = TEST_RESULT_ERROR, .exit_status = -1, .message = "interrupted" },
        { .image = "noble", .result = TEST_RESULT_SKIPPED, .exit_status = -1, .message = "interrupted before it started" },
};

static char *report(int (*f)(FILE *, const TestOutcome *, size_t)) {
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        if (!m)
                return NULL;
        if (f(m, outcomes, ELEMENTSOF(outcomes)) < 0) {
                fclose(m);
                free(buf);
                return NULL;
        }
        fclose(m);
        return buf;
}

TEST(table_report) {
        char *t = report(test_report_table);

        ASSERT_TRUE(t);
        ASSERT_TRUE(strstr(t, "IMAGE     RESULT   STATUS   DURATION  LOG\n") == t);
        ASSERT_TRUE(strstr(t, "\nbookworm  pass          0       1.2s  -\n"));
        ASSERT_TRUE(strstr(t, "\ntrixie    fail          3       2.5s  /tmp/logs/trixie.log  (exit status 3)\n"));
        ASSERT_TRUE(strstr(t, "\nsid       timeout       -      60.0s  -  (ran longer"));
        ASSERT_TRUE(strstr(t, "\nnoble     skipped       -          -  -  (interrupted before it started)\n"));
        free(t);
}

TEST(json_report) {
        char *t = report(test_report_json);

        ASSERT_TRUE(t);
        ASSERT_TRUE(strstr(t, "{\"results\":[{\"image\":\"bookworm\",\"result\":\"pass\",\"exit_status\":0,"
                              "\"duration_usec\":1200000,\"setup_usec\":30000,\"log\":null,\"message\":null}") == t);
        ASSERT_TRUE(strstr(t, "{\"image\":\"sid\",\"result\":\"timeout\",\"exit_status\":null,"
                              "\"duration_usec\":60000000,\"setup_usec\":null,\"log\":null,"));
        ASSERT_TRUE(strstr(t, "],\"pass\":1,\"fail\":1,\"timeout\":1,\"error\":1,\"skipped\":1}\n"));
        free(t);
}

static int junit(FILE *f, const TestOutcome *o, size_t n) {
        return test_report_junit(f, "suite<&>", o, n, 1796000000ULL * 1000000);
}

TEST(junit_report) {
        char *t = report(junit);

        ASSERT_TRUE(t);
        ASSERT_TRUE(strstr(t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n") == t);
        ASSERT_TRUE(strstr(t, "<testsuite name=\"suite&lt;&amp;&gt;\" tests=\"5\" failures=\"2\" errors=\"1\" "
                              "skipped=\"1\" time=\"63.700\" timestamp=\"2026-11-30T"));
        ASSERT_TRUE(strstr(t, "<testcase classname=\"suite&lt;&amp;&gt;\" name=\"bookworm\" time=\"1.200\">\n"
                              "      <system-out>ok\n</system-out>\n    </testcase>"));
        ASSERT_TRUE(strstr(t, "<failure type=\"fail\" message=\"exit status 3\"/>\n"
                              "      <system-out>&lt;broken&gt; &amp; \xef\xbf\xbd[31mred\n</system-out>"));
        ASSERT_TRUE(strstr(t, "<failure type=\"timeout\" message=\"ran longer than the timeout of 60.0 s\"/>\n"
                              "      <system-err>booting\n</system-err>"));
        ASSERT_TRUE(strstr(t, "<error type=\"error\" message=\"interrupted\"/>"));
        ASSERT_TRUE(strstr(t, "<skipped message=\"interrupted before it started\"/>"));
        ASSERT_TRUE(strstr(t, "</testsuite>\n</testsuites>\n"));
        free(t);
}
