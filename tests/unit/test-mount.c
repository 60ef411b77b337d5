/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"
#include "tests.h"

/* A tree in a fresh temporary directory, and an fd of it. */
static int tree_open(char path[static 128]) {
        snprintf(path, 128, "%s/mount.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(path))
                return -errno;
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void tree_remove(const char *path) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        (void) system(cmd);
}

static bool is_kind(int dirfd, const char *path, mode_t kind) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) >= 0 && (st.st_mode & S_IFMT) == kind;
}

TEST(open_in_root_creates) {
        char path[128];
        int root = tree_open(path), fd = -1;

        ASSERT_TRUE(root >= 0);
        /* Every missing level, a trailing slash, an existing path, a file at the end. */
        ASSERT_OK(open_in_root(root, "/a/b/c/", IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &fd));
        close(fd);
        ASSERT_TRUE(is_kind(root, "a/b/c", S_IFDIR));
        ASSERT_OK(open_in_root(root, "/a/b/c", IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &fd));
        close(fd);
        ASSERT_OK(open_in_root(root, "/a/x/f", IN_ROOT_MKFILE | IN_ROOT_NO_SYMLINKS, &fd));
        close(fd);
        ASSERT_TRUE(is_kind(root, "a/x", S_IFDIR));
        ASSERT_TRUE(is_kind(root, "a/x/f", S_IFREG));
        /* Doubled slashes, and a deep chain of missing levels (made one after another, not
         * on a stack frame each). */
        ASSERT_OK(open_in_root(root, "/d//e", IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &fd));
        close(fd);
        ASSERT_TRUE(is_kind(root, "d/e", S_IFDIR));
        {
                char deep[1600] = "";
                for (int i = 0; i < 500; i++)
                        strcat(deep, "/z");
                ASSERT_OK(open_in_root(root, deep, IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &fd));
                close(fd);
                ASSERT_TRUE(is_kind(root, deep + 1, S_IFDIR));
        }
        /* Without a flag to create, a missing path is an error and nothing is made. */
        ASSERT_ERROR(open_in_root(root, "/n/o", IN_ROOT_NO_SYMLINKS, &fd), ENOENT);
        ASSERT_FALSE(is_kind(root, "n", S_IFDIR));
        ASSERT_ERROR(open_in_root(root, "relative", IN_ROOT_MKDIR, &fd), EINVAL);
        close(root);
        tree_remove(path);
}

TEST(open_in_root_symlinks) {
        char path[128], outside[128];
        int root = tree_open(path), out = tree_open(outside), fd = -1;

        ASSERT_TRUE(root >= 0 && out >= 0);
        /* A guest's symlink to an absolute path leads inside the tree, never out of it. */
        ASSERT_OK(mkdirat(root, "in", 0755));
        ASSERT_OK(symlinkat("/in", root, "l"));
        ASSERT_OK(symlinkat(outside, root, "o"));
        ASSERT_ERROR(open_in_root(root, "/l/d/e", IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &fd), ELOOP);
        ASSERT_FALSE(is_kind(root, "in/d", S_IFDIR));
        ASSERT_OK(open_in_root(root, "/l/d/e", IN_ROOT_MKDIR, &fd));
        close(fd);
        ASSERT_TRUE(is_kind(root, "in/d/e", S_IFDIR));
        ASSERT_ERROR(open_in_root(root, "/o/d", IN_ROOT_MKDIR, &fd), ENOENT);
        ASSERT_FALSE(is_kind(out, "d", S_IFDIR));
        /* A mount target that is itself a symlink is refused. */
        ASSERT_OK(symlinkat("/x", root, "m"));
        ASSERT_ERROR(open_in_root(root, "/m", IN_ROOT_MKDIR, &fd), ELOOP);
        ASSERT_ERROR(open_in_root(root, "/m", IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &fd), ELOOP);
        ASSERT_ERROR(open_in_root(root, "/l", IN_ROOT_NO_SYMLINKS, &fd), ELOOP);
        close(root);
        close(out);
        tree_remove(path);
        tree_remove(outside);
}
