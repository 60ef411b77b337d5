/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tests.h"
#include "util/escape.h"
#include "util/util.h"

static const struct {
        const char *in;
        size_t max;
        EscapeFlags flags;
        const char *out;
} terminal_table[] = {
        { "", ESCAPE_UNLIMITED, 0, "" },
        { "plain text", ESCAPE_UNLIMITED, 0, "plain text" },
        /* C0 controls and DEL */
        { "a\x1b[31mred", ESCAPE_UNLIMITED, 0, "a\\x1b[31mred" },
        { "\x1b]0;title\x07", ESCAPE_UNLIMITED, 0, "\\x1b]0;title\\x07" },
        { "line\nbreak\r\t", ESCAPE_UNLIMITED, 0, "line\\x0abreak\\x0d\\x09" },
        { "\x01\x1f\x7f", ESCAPE_UNLIMITED, 0, "\\x01\\x1f\\x7f" },
        /* 8-bit C1 bytes are never well-formed UTF-8 */
        { "\x9b" "31m", ESCAPE_UNLIMITED, 0, "\\x9b31m" },
        { "\x80\x9f", ESCAPE_UNLIMITED, 0, "\\x80\\x9f" },
        { "latin1 caf\xe9", ESCAPE_UNLIMITED, 0, "latin1 caf\\xe9" },
        /* the UTF-8 form of C1: U+009B (CSI), U+0085 (NEL), U+0080 and U+009F */
        { "\xc2\x9b" "2J", ESCAPE_UNLIMITED, 0, "\\u009b2J" },
        { "a\xc2\x85" "b", ESCAPE_UNLIMITED, 0, "a\\u0085b" },
        { "\xc2\x80\xc2\x9f", ESCAPE_UNLIMITED, 0, "\\u0080\\u009f" },
        /* right next to C1: kept */
        { "\xc2\xa0\xc2\xa9 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", ESCAPE_UNLIMITED, 0,
          "\xc2\xa0\xc2\xa9 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7" },
        /* ill-formed UTF-8: overlong ESC, overlong NUL, surrogate, beyond U+10FFFF, cut short */
        { "\xe0\x80\x9b", ESCAPE_UNLIMITED, 0, "\\xe0\\x80\\x9b" },
        { "\xc0\x80", ESCAPE_UNLIMITED, 0, "\\xc0\\x80" },
        { "\xed\xa0\x80", ESCAPE_UNLIMITED, 0, "\\xed\\xa0\\x80" },
        { "\xf4\x90\x80\x80", ESCAPE_UNLIMITED, 0, "\\xf4\\x90\\x80\\x80" },
        { "end\xe2\x82", ESCAPE_UNLIMITED, 0, "end\\xe2\\x82" },
        { "\xff\xfe", ESCAPE_UNLIMITED, 0, "\\xff\\xfe" },
        /* backslashes only when asked */
        { "a\\x1b", ESCAPE_UNLIMITED, 0, "a\\x1b" },
        { "a\\x1b", ESCAPE_UNLIMITED, ESCAPE_BACKSLASH, "a\\x5cx1b" },
        /* bounded: cut at a character boundary, "..." appended */
        { "abcdef", 3, 0, "abc..." },
        { "abc", 3, 0, "abc" },
        { "ab\xe2\x82\xac" "cd", 3, 0, "ab\xe2\x82\xac..." },
        { "\x1b\x1b\x1b\x1b", 2, 0, "\\x1b\\x1b..." },
        { "abc", 0, 0, "..." },
};

TEST(escape_terminal_table) {
        for (size_t i = 0; i < ELEMENTSOF(terminal_table); i++) {
                _cleanup_free_ char *e = escape_terminal(terminal_table[i].in, terminal_table[i].max,
                                                         terminal_table[i].flags);
                if (!e || !streq(e, terminal_table[i].out))
                        fprintf(stderr, "case %zu\n", i);
                ASSERT_STREQ(e, terminal_table[i].out);
                /* the result itself needs no more escaping */
                _cleanup_free_ char *again = escape_terminal(e, ESCAPE_UNLIMITED, 0);
                ASSERT_STREQ(again, e);
        }
}

TEST(escape_terminal_every_byte) {
        /* Whatever comes in, nothing a terminal acts on comes out. */
        for (unsigned a = 1; a < 256; a++)
                for (unsigned b = 0; b < 256; b += 7) {
                        char in[3] = { (char) a, (char) b, 0 };
                        _cleanup_free_ char *e = escape_terminal(in, ESCAPE_UNLIMITED, 0);
                        ASSERT_TRUE(e);
                        ASSERT_TRUE(utf8_is_valid(e));
                        for (const unsigned char *p = (const unsigned char *) e; *p; p++) {
                                ASSERT_TRUE(*p >= 0x20 && *p != 0x7f);
                                if (*p == 0xc2)
                                        ASSERT_TRUE(p[1] >= 0xa0);
                        }
                }
}

TEST(escape_terminal_buf) {
        char out[16];

        ASSERT_EQ(escape_terminal_buf("short", 0, out, sizeof out), 5);
        ASSERT_STREQ(out, "short");
        /* exactly fitting: no cut */
        ASSERT_EQ(escape_terminal_buf("0123456789abcde", 0, out, sizeof out), 15);
        ASSERT_STREQ(out, "0123456789abcde");
        escape_terminal_buf("0123456789abcdef", 0, out, sizeof out);
        ASSERT_STREQ(out, "0123456789ab...");
        /* an escape is never split */
        escape_terminal_buf("0123456789\x1b\x1b\x1b", 0, out, sizeof out);
        ASSERT_STREQ(out, "0123456789...");
        escape_terminal_buf("abc", 0, out, 4);
        ASSERT_STREQ(out, "abc");
        escape_terminal_buf("abcd", 0, out, 4);
        ASSERT_STREQ(out, "...");
}

TEST(utf8_escape_invalid) {
        static const struct {
                const char *in, *out;
        } table[] = {
                { "", "" },
                { "plain \x1b[2J kept", "plain \x1b[2J kept" },
                { "caf\xc3\xa9 \xc2\x9b", "caf\xc3\xa9 \xc2\x9b" },
                { "8-bit \x9b" "31m", "8-bit \\x9b31m" },
                { "\xff\xe2\x82", "\\xff\\xe2\\x82" },
                { "a\\b", "a\\b" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *e = utf8_escape_invalid(table[i].in);
                ASSERT_STREQ(e, table[i].out);
                ASSERT_TRUE(utf8_is_valid(e));
        }
}

static char *json(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        json_write_string(f, s);
        fclose(f);
        return buf;
}

static const struct {
        const char *in, *out;
} json_table[] = {
        { "", "\"\"" },
        { "name", "\"name\"" },
        { "q\"b\\", "\"q\\\"b\\\\\"" },
        { "a\nb\tc\x1b", "\"a\\nb\\u0009c\\u001b\"" },
        { "\x7f", "\"\\u007f\"" },
        { "\xc2\x9b" "x\xc2\x80", "\"\\u009bx\\u0080\"" },
        { "\x9b\xff", "\"\\ufffd\\ufffd\"" },
        { "\xe0\x80\x9b", "\"\\ufffd\\ufffd\\ufffd\"" },
        { "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
};

TEST(json_write_string_table) {
        for (size_t i = 0; i < ELEMENTSOF(json_table); i++) {
                _cleanup_free_ char *j = json(json_table[i].in);
                ASSERT_STREQ(j, json_table[i].out);
        }
        _cleanup_free_ char *n = json(NULL);
        ASSERT_STREQ(n, "\"\"");
}

static const struct {
        const char *in;
        size_t len;
        uint32_t cp;
} utf8_table[] = {
        { "A", 1, 'A' },
        { "\xc2\x80", 2, 0x80 },
        { "\xc3\xa9", 2, 0xe9 },
        { "\xe2\x82\xac", 3, 0x20ac },
        { "\xef\xbf\xbd", 3, 0xfffd },
        { "\xf0\x9f\x90\xa7", 4, 0x1f427 },
        { "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
        { "\x80", 0, 0 },
        { "\xc1\xbf", 0, 0 },             /* overlong */
        { "\xe0\x9f\xbf", 0, 0 },         /* overlong */
        { "\xf0\x8f\xbf\xbf", 0, 0 },     /* overlong */
        { "\xed\xbf\xbf", 0, 0 },         /* surrogate */
        { "\xf4\x90\x80\x80", 0, 0 },     /* beyond U+10FFFF */
        { "\xf8\x88\x80\x80\x80", 0, 0 }, /* 5 bytes */
        { "\xe2\x82", 0, 0 },             /* cut short */
        { "\xe2\x28\xa1", 0, 0 },         /* bad continuation */
};

TEST(utf8_decode_table) {
        for (size_t i = 0; i < ELEMENTSOF(utf8_table); i++) {
                uint32_t cp = 0;
                size_t k = utf8_decode(utf8_table[i].in, strlen(utf8_table[i].in), &cp);
                ASSERT_EQ(k, utf8_table[i].len);
                if (k > 0)
                        ASSERT_EQ(cp, utf8_table[i].cp);
                ASSERT_EQ(utf8_is_valid(utf8_table[i].in), k > 0);
        }
        ASSERT_EQ(utf8_decode("abc", 0, NULL), 0);
        ASSERT_EQ(utf8_decode("\xe2\x82\xac", 2, NULL), 0);
}
