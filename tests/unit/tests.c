/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests.h"

TestCase *test_cases;

int main(int argc, char **argv) {
        int passed = 0, failed = 0;

        for (TestCase *t = test_cases; t; t = t->next) {
                int f = 0;
                if (argc > 1 && strcmp(argv[1], t->name) != 0)
                        continue;
                t->func(&f);
                printf("%s %s\n", f ? "FAIL" : "ok  ", t->name);
                if (f)
                        failed++;
                else
                        passed++;
        }
        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
}
