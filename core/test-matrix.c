/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"
#include "settings.h"
#include "test-matrix.h"
#include "util/strv.h"
#include "util/escape.h"
#include "util/util.h"

static const char *const test_result_table[_TEST_RESULT_MAX] = {
        [TEST_RESULT_PASS] = "pass",
        [TEST_RESULT_FAIL] = "fail",
        [TEST_RESULT_TIMEOUT] = "timeout",
        [TEST_RESULT_ERROR] = "error",
        [TEST_RESULT_SKIPPED] = "skipped",
};

DEFINE_STRING_TABLE_LOOKUP(test_result, TestResult, _TEST_RESULT_MAX);

int test_name_list_parse(const char *s, char ***list, char **ret_bad) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;

        *ret_bad = NULL;
        if (isempty(s))
                return -EINVAL;
        if (strnlen(s, TEST_OPTION_MAX + 1) > TEST_OPTION_MAX)
                return -E2BIG;
        for (;;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *item = strndup(p, n);

                if (!item)
                        return -ENOMEM;
                if (!image_name_is_valid(item)) {
                        *ret_bad = TAKE_PTR(item);
                        return -EINVAL;
                }
                if (strv_contains(l, item) || strv_contains(*list, item)) {
                        *ret_bad = TAKE_PTR(item);
                        return -EEXIST;
                }
                if (strv_length(l) + strv_length(*list) >= TEST_IMAGES_MAX)
                        return -E2BIG;
                if (strv_consume(&l, TAKE_PTR(item)) < 0)
                        return -ENOMEM;
                if (p[n] == 0)
                        break;
                p += n + 1;
        }
        if (strv_extend_strv(list, l) < 0)
                return -ENOMEM;
        return 0;
}

int test_jobs_parse(const char *s, unsigned *ret) {
        int n;

        if (isempty(s) || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
                return -EINVAL;
        if (safe_atoi(s, &n) < 0 || n < 1 || (unsigned) n > TEST_JOBS_MAX)
                return -ERANGE;
        *ret = (unsigned) n;
        return 0;
}

int test_timeout_parse(const char *s, uint64_t *ret_usec) {
        size_t digits, len;
        uint64_t u;

        /* Plain decimal seconds only: strtod() would also take "nan", "inf" and hex. */
        if (isempty(s) || strnlen(s, 32) >= 32)
                return -EINVAL;
        len = strlen(s);
        if (s[len - 1] == 's')
                len--;
        digits = strspn(s, "0123456789.");
        if (digits != len || digits == 0 || s[0] == '.' || memchr(s, '.', len) != memrchr(s, '.', len))
                return -EINVAL;
        if (parse_sec_usec(s, &u) < 0)
                return -EINVAL;
        if (u == 0 || u > TEST_TIMEOUT_MAX_USEC)
                return -ERANGE;
        *ret_usec = u;
        return 0;
}

void test_copy_done(TestCopy *c) {
        c->source = mfree(c->source);
        c->destination = mfree(c->destination);
}

int test_copy_parse(const char *spec, TestCopy *ret) {
        _cleanup_free_ char *src = NULL, *dst = NULL;
        const char *colon;

        if (isempty(spec) || strnlen(spec, TEST_OPTION_MAX + 1) > TEST_OPTION_MAX)
                return -EINVAL;
        colon = strchr(spec, ':');
        if (!colon)
                return -EINVAL;
        src = strndup(spec, colon - spec);
        dst = strdup(colon + 1);
        if (!src || !dst)
                return -ENOMEM;
        if (!path_is_safe_absolute(src) || !path_is_safe_absolute(dst) || streq(dst, "/") ||
            strchr(dst, ':'))
                return -EINVAL;
        ret->source = TAKE_PTR(src);
        ret->destination = TAKE_PTR(dst);
        return 0;
}

void test_line_buffer_feed(TestLineBuffer *b, const char *p, size_t n, TestLineFunc f, void *userdata) {
        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t take = nl ? (size_t) (nl - p) : n;

                if (b->len + take >= TEST_LINE_MAX) {
                        /* Cut an overlong line where the buffer ends. */
                        size_t room = TEST_LINE_MAX - b->len;
                        memcpy(b->data + b->len, p, room);
                        f(b->data, TEST_LINE_MAX, userdata);
                        b->len = 0;
                        p += room;
                        n -= room;
                        continue;
                }
                memcpy(b->data + b->len, p, take);
                b->len += take;
                p += take;
                n -= take;
                if (nl) {
                        f(b->data, b->len, userdata);
                        b->len = 0;
                        p++;
                        n--;
                }
        }
}

void test_line_buffer_flush(TestLineBuffer *b, TestLineFunc f, void *userdata) {
        if (b->len > 0)
                f(b->data, b->len, userdata);
        b->len = 0;
}

void test_capture_done(TestCapture *c) {
        c->head = mfree(c->head);
        c->tail = mfree(c->tail);
        c->head_len = c->tail_start = c->tail_len = 0;
        c->dropped = 0;
}

#define CAPTURE_HALF (TEST_CAPTURE_MAX / 2)

int test_capture_append(TestCapture *c, const char *p, size_t n) {
        if (c->head_len < CAPTURE_HALF) {
                size_t k = MIN(n, CAPTURE_HALF - c->head_len);
                if (!c->head && !(c->head = malloc(CAPTURE_HALF)))
                        return -ENOMEM;
                memcpy(c->head + c->head_len, p, k);
                c->head_len += k;
                p += k;
                n -= k;
        }
        if (n == 0)
                return 0;
        if (!c->tail && !(c->tail = malloc(CAPTURE_HALF)))
                return -ENOMEM;
        /* A ring: the oldest bytes of the tail give way. */
        for (size_t i = 0; i < n; i++) {
                if (c->tail_len == CAPTURE_HALF) {
                        c->tail_start = (c->tail_start + 1) % CAPTURE_HALF;
                        c->tail_len--;
                        c->dropped++;
                }
                c->tail[(c->tail_start + c->tail_len) % CAPTURE_HALF] = p[i];
                c->tail_len++;
        }
        return 0;
}

int test_capture_text(const TestCapture *c, char **ret) {
        char marker[96] = "";
        char *t;
        size_t m, k = 0;

        if (c->dropped > 0)
                snprintf(marker, sizeof marker, "\n[... %" PRIu64 " bytes not kept ...]\n", c->dropped);
        m = strlen(marker);
        t = malloc(c->head_len + m + c->tail_len + 1);
        if (!t)
                return -ENOMEM;
        if (c->head_len)
                memcpy(t, c->head, c->head_len);
        k = c->head_len;
        memcpy(t + k, marker, m);
        k += m;
        for (size_t i = 0; i < c->tail_len; i++)
                t[k++] = c->tail[(c->tail_start + i) % CAPTURE_HALF];
        t[k] = 0;
        /* Output with NUL bytes in it ends at the first one: reports are text. */
        *ret = t;
        return 0;
}

/* Length of the valid UTF-8 sequence at p (1 for ASCII), 0 if invalid. */
static size_t utf8_valid_length(const unsigned char *p) {
        size_t n;
        uint32_t cp;

        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xe0) == 0xc0)
                n = 2, cp = p[0] & 0x1f;
        else if ((p[0] & 0xf0) == 0xe0)
                n = 3, cp = p[0] & 0x0f;
        else if ((p[0] & 0xf8) == 0xf0)
                n = 4, cp = p[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        /* U+FFFE and U+FFFF are not XML characters either; JSON takes them, but one rule
         * for both keeps this simple. */
        if (cp == 0xfffe || cp == 0xffff)
                return 0;
        return n;
}

#define REPLACEMENT "\xef\xbf\xbd"

void xml_write_escaped(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; p && *p;) {
                size_t n = utf8_valid_length(p);
                if (n == 0) {
                        fputs(REPLACEMENT, f);
                        p++;
                        continue;
                }
                switch (*p) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\n':
                case '\t':
                        fputc(*p, f);
                        break;
                case '\r':
                        fputs("&#13;", f);
                        break;
                default:
                        /* XML 1.0 has no way at all to carry other C0 controls. */
                        if (*p < 0x20)
                                fputs(REPLACEMENT, f);
                        else
                                fwrite(p, 1, n, f);
                }
                p += n;
        }
}

static void format_duration(uint64_t usec, char *buf, size_t size) {
        snprintf(buf, size, "%" PRIu64 ".%01" PRIu64 "s", usec / 1000000, (usec / 100000) % 10);
}

int test_report_table(FILE *f, const TestOutcome *o, size_t n) {
        size_t w_image = strlen("IMAGE");

        for (size_t i = 0; i < n; i++)
                w_image = MAX(w_image, strlen(o[i].image));
        fprintf(f, "%-*s  %-7s  %6s  %9s  %s\n", (int) w_image, "IMAGE", "RESULT", "STATUS", "DURATION", "LOG");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *log = o[i].log_path ? escape_terminal(o[i].log_path, 256, ESCAPE_BACKSLASH) : NULL;
                _cleanup_free_ char *msg = o[i].message ? escape_terminal(o[i].message, 200, ESCAPE_BACKSLASH) : NULL;
                char status[16] = "-", duration[32] = "-";

                if (o[i].exit_status >= 0)
                        snprintf(status, sizeof status, "%d", o[i].exit_status);
                if (o[i].result != TEST_RESULT_SKIPPED)
                        format_duration(o[i].duration_usec, duration, sizeof duration);
                /* Image names are checked names: nothing to escape. */
                fprintf(f, "%-*s  %-7s  %6s  %9s  %s", (int) w_image, o[i].image,
                        test_result_to_string(o[i].result), status, duration, log ?: "-");
                if (msg)
                        fprintf(f, "  (%s)", msg);
                fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}

static size_t count_result(const TestOutcome *o, size_t n, TestResult r) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += o[i].result == r;
        return k;
}

int test_report_json(FILE *f, const TestOutcome *o, size_t n) {
        fputs("{\"results\":[", f);
        for (size_t i = 0; i < n; i++) {
                fputs(i ? ",{\"image\":" : "{\"image\":", f);
                json_write_string(f, o[i].image);
                fprintf(f, ",\"result\":\"%s\",\"exit_status\":", test_result_to_string(o[i].result));
                if (o[i].exit_status >= 0)
                        fprintf(f, "%d", o[i].exit_status);
                else
                        fputs("null", f);
                fprintf(f, ",\"duration_usec\":%" PRIu64 ",\"setup_usec\":", o[i].duration_usec);
                if (o[i].setup_usec)
                        fprintf(f, "%" PRIu64, o[i].setup_usec);
                else
                        fputs("null", f);
                fputs(",\"log\":", f);
                if (o[i].log_path)
                        json_write_string(f, o[i].log_path);
                else
                        fputs("null", f);
                fputs(",\"message\":", f);
                if (o[i].message)
                        json_write_string(f, o[i].message);
                else
                        fputs("null", f);
                fputc('}', f);
        }
        fputs("]", f);
        for (TestResult r = 0; r < _TEST_RESULT_MAX; r++)
                fprintf(f, ",\"%s\":%zu", test_result_to_string(r), count_result(o, n, r));
        fputs("}\n", f);
        return ferror(f) ? -EIO : 0;
}

int test_report_junit(FILE *f, const char *suite, const TestOutcome *o, size_t n, uint64_t timestamp) {
        uint64_t total = 0;
        char stamp[32] = "";
        time_t t = (time_t) (timestamp / 1000000);
        struct tm tm;

        for (size_t i = 0; i < n; i++)
                total += o[i].duration_usec;
        if (gmtime_r(&t, &tm))
                strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", f);
        xml_write_escaped(f, suite);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n",
                n, count_result(o, n, TEST_RESULT_FAIL) + count_result(o, n, TEST_RESULT_TIMEOUT),
                count_result(o, n, TEST_RESULT_ERROR), count_result(o, n, TEST_RESULT_SKIPPED),
                (double) total / 1e6, stamp);
        for (size_t i = 0; i < n; i++) {
                const char *msg = o[i].message ?: test_result_to_string(o[i].result);

                fputs("    <testcase classname=\"", f);
                xml_write_escaped(f, suite);
                fputs("\" name=\"", f);
                xml_write_escaped(f, o[i].image);
                fprintf(f, "\" time=\"%.3f\">\n", (double) o[i].duration_usec / 1e6);
                switch (o[i].result) {
                case TEST_RESULT_FAIL:
                case TEST_RESULT_TIMEOUT:
                        fprintf(f, "      <failure type=\"%s\" message=\"", test_result_to_string(o[i].result));
                        xml_write_escaped(f, msg);
                        fputs("\"/>\n", f);
                        break;
                case TEST_RESULT_ERROR:
                        fputs("      <error type=\"error\" message=\"", f);
                        xml_write_escaped(f, msg);
                        fputs("\"/>\n", f);
                        break;
                case TEST_RESULT_SKIPPED:
                        fputs("      <skipped message=\"", f);
                        xml_write_escaped(f, msg);
                        fputs("\"/>\n", f);
                        break;
                default:
                        break;
                }
                if (!isempty(o[i].output)) {
                        fputs("      <system-out>", f);
                        xml_write_escaped(f, o[i].output);
                        fputs("</system-out>\n", f);
                }
                if (!isempty(o[i].console)) {
                        fputs("      <system-err>", f);
                        xml_write_escaped(f, o[i].console);
                        fputs("</system-err>\n", f);
                }
                fputs("    </testcase>\n", f);
        }
        fputs("  </testsuite>\n</testsuites>\n", f);
        return ferror(f) ? -EIO : 0;
}
