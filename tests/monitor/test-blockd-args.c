/* SPDX-License-Identifier: MIT */
/*
 * qapikit-blockd's command line: file names are bytes.  The daemon is
 * started (path in argv[1], or $QAPIKIT_BLOCKD) in the C locale with a
 * socket path and a --drive file name that are not valid UTF-8 (nor
 * ASCII): it must listen on exactly that path, open exactly that file,
 * answer over QMP and stop with 'quit'.
 */
#include <json-c/json.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

/* A safety net against a hung test, not a timing assertion. */
#define GIVE_UP_MS 30000

static const char *blockd_path;

/* Read FD up to and without the next '\n'; NULL at end of stream. */
static char *read_line(int fd)
{
    g_autoptr(GString) line = g_string_new(NULL);

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char c;
        ssize_t n;

        g_assert_cmpint(poll(&pfd, 1, GIVE_UP_MS), ==, 1);
        n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        g_assert_cmpint(n, >=, 0);
        if (n == 0) {
            return line->len ? g_string_free(g_steal_pointer(&line), FALSE)
                             : NULL;
        }
        if (c == '\n') {
            return g_string_free(g_steal_pointer(&line), FALSE);
        }
        g_string_append_c(line, c);
    }
}

/* The next QMP message on FD that is not an event. */
static json_object *read_reply(int fd)
{
    for (;;) {
        g_autofree char *line = read_line(fd);
        json_object *msg;

        g_assert_nonnull(line);
        msg = json_tokener_parse(line);
        g_assert_nonnull(msg);
        if (!json_object_object_get_ex(msg, "event", NULL)) {
            return msg;
        }
        json_object_put(msg);
    }
}

static void send_text(int fd, const char *text)
{
    size_t len = strlen(text);

    g_assert_cmpint(send(fd, text, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void test_non_utf8_names(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("qapikit-blockd-XXXXXX", &err);
    /* 0xff is never UTF-8; "é" in UTF-8 is not ASCII (the C locale). */
    g_autofree char *sock =
        g_build_filename(dir, "qmp-\xff\xc3\xa9.sock", NULL);
    g_autofree char *disk = g_build_filename(dir, "disk-\xfe,,x.img", NULL);
    g_autofree char *disk_arg = NULL;
    g_autofree char *qmp_arg = g_strconcat("unix:", sock, NULL);
    g_autofree char *expected =
        g_strconcat("qapikit-blockd: QMP on unix:", sock, NULL);
    g_autofree char *line = NULL;
    g_autofree char *on_disk = NULL;
    g_auto(GStrv) env = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    json_object *msg, *ret, *dev;
    GPid pid;
    int out_fd, fd, status;
    struct stat st;

    g_assert_no_error(err);
    /* The ",," in the name is a literal comma on the command line. */
    on_disk = g_build_filename(dir, "disk-\xfe,x.img", NULL);
    fd = open(on_disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 1024 * 1024), ==, 0);
    close(fd);
    disk_arg = g_strconcat("id=d0,format=raw,file=", disk, NULL);

    env = g_get_environ();
    env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
    {
        const char *argv[] = { blockd_path, "--qmp",  qmp_arg,
                               "--drive",   disk_arg, NULL };

        g_assert_true(g_spawn_async_with_pipes(
            NULL, (char **)argv, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
            &pid, NULL, &out_fd, NULL, &err));
        g_assert_no_error(err);
    }

    /* Listening on exactly these bytes. */
    line = read_line(out_fd);
    g_assert_cmpstr(line, ==, expected);
    g_assert_cmpint(lstat(sock, &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(sock), <, sizeof(addr.sun_path));
    memcpy(addr.sun_path, sock, strlen(sock));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    msg = read_reply(fd);
    g_assert_true(json_object_object_get_ex(msg, "QMP", NULL));
    json_object_put(msg);
    send_text(fd, "{\"execute\": \"qmp_capabilities\"}\n");
    msg = read_reply(fd);
    g_assert_true(json_object_object_get_ex(msg, "return", NULL));
    json_object_put(msg);

    /* The device opened the file of that name (1 MiB, raw). */
    send_text(fd, "{\"execute\": \"query-block\"}\n");
    msg = read_reply(fd);
    g_assert_true(json_object_object_get_ex(msg, "return", &ret));
    g_assert_cmpuint(json_object_array_length(ret), ==, 1);
    dev = json_object_array_get_idx(ret, 0);
    g_assert_true(json_object_object_get_ex(dev, "device", &dev));
    g_assert_cmpstr(json_object_get_string(dev), ==, "d0");
    json_object_put(msg);

    send_text(fd, "{\"execute\": \"quit\"}\n");
    msg = read_reply(fd);
    g_assert_true(json_object_object_get_ex(msg, "return", NULL));
    json_object_put(msg);
    close(fd);

    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_spawn_close_pid(pid);
    close(out_fd);
    /* The daemon removed its socket; the image stays. */
    g_assert_cmpint(lstat(sock, &st), <, 0);
    g_assert_cmpint(g_unlink(on_disk), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    blockd_path = argc > 1 ? argv[1] : g_getenv("QAPIKIT_BLOCKD");
    if (!blockd_path) {
        g_printerr("usage: %s QAPIKIT-BLOCKD\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/blockd/args/non-utf8-file-names", test_non_utf8_names);
    return g_test_run();
}
