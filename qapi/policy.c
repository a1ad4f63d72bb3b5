/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the compatibility policy for special features
 * (docs/spec/qapi-language.md §6/3).  The process default applies to
 * events and to visitors that were given no policy; command lists carry
 * their own (qmp_command_list_set_policy()).
 */
#include "visitor-impl.h"

/* All zero: accept and show everything. */
static QapiCompatPolicy default_policy;

void qapi_compat_policy_set(const QapiCompatPolicy *policy)
{
    default_policy = *policy;
}

const QapiCompatPolicy *qapi_compat_policy_get(void)
{
    return &default_policy;
}

bool qapi_policy_hides(const QapiCompatPolicy *policy,
                       unsigned special_features)
{
    if (!policy) {
        policy = &default_policy;
    }
    return ((special_features & (1u << QAPI_DEPRECATED))
            && policy->deprecated_output == QAPI_OUTPUT_HIDE)
        || ((special_features & (1u << QAPI_UNSTABLE))
            && policy->unstable_output == QAPI_OUTPUT_HIDE);
}

const char *qapi_policy_refused(const QapiCompatPolicy *policy,
                                unsigned special_features)
{
    if (!policy) {
        policy = &default_policy;
    }
    if ((special_features & (1u << QAPI_DEPRECATED))
        && policy->deprecated_input == QAPI_INPUT_REJECT) {
        return "deprecated";
    }
    if ((special_features & (1u << QAPI_UNSTABLE))
        && policy->unstable_input == QAPI_INPUT_REJECT) {
        return "unstable";
    }
    return NULL;
}

bool qapi_policy_refuses(const QapiCompatPolicy *policy,
                         unsigned special_features)
{
    return qapi_policy_refused(policy, special_features) != NULL;
}

bool qapi_compat_policy_hides(unsigned special_features)
{
    return qapi_policy_hides(NULL, special_features);
}

bool qapi_compat_policy_refuses(unsigned special_features)
{
    return qapi_policy_refused(NULL, special_features) != NULL;
}

void visit_set_policy(Visitor *v, const QapiCompatPolicy *policy)
{
    /* The dealloc visitor applies no policy, and is shared. */
    if (v->kind != VISITOR_DEALLOC) {
        v->policy = policy;
    }
}
