/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: the helpers every handler author uses, from the public
 * headers: qapi_error_setg() and the list builders QAPI_LIST_PREPEND and
 * QAPI_LIST_APPEND.
 */
#include <qapikit/error.h>
#include <qapikit/visitor.h>

static void test_error_setg(void)
{
    g_autoptr(GError) err = NULL;

    qapi_error_setg(&err, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                    "device '%s' not found", "disk9");
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND);
    g_assert_cmpstr(err->message, ==, "device 'disk9' not found");
    g_assert_cmpint(qapi_error_class(err), ==, QAPI_ERROR_CLASS_DEVICENOTFOUND);
    /* A caller that does not want the error. */
    qapi_error_setg(NULL, QAPI_ERROR_CLASS_GENERICERROR, "%d", 1);
}

static void test_list_builders(void)
{
    strList *head = NULL, **tail = &head;
    const char *const want[] = { "z", "a", "b" };
    size_t i = 0;

    QAPI_LIST_APPEND(tail, g_strdup("a"));
    QAPI_LIST_APPEND(tail, g_strdup("b"));
    QAPI_LIST_PREPEND(head, g_strdup("z"));
    for (strList *l = head; l; l = l->next, i++) {
        g_assert_cmpuint(i, <, G_N_ELEMENTS(want));
        g_assert_cmpstr(l->value, ==, want[i]);
    }
    g_assert_cmpuint(i, ==, G_N_ELEMENTS(want));
    /* The tail moved with each node: appending goes on after "b". */
    QAPI_LIST_APPEND(tail, g_strdup("c"));
    g_assert_cmpstr(head->next->next->next->value, ==, "c");
    qapi_free_strList(head);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/helpers/error-setg", test_error_setg);
    g_test_add_func("/helpers/list-builders", test_list_builders);
    return g_test_run();
}
