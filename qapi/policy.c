/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the compatibility policy for special features.
 */
#include "visitor-impl.h"

/* All zero: accept and show everything. */
static QapiCompatPolicy compat_policy;

void qapi_compat_policy_set(const QapiCompatPolicy *policy)
{
    compat_policy = *policy;
}

const QapiCompatPolicy *qapi_compat_policy_get(void)
{
    return &compat_policy;
}

bool qapi_compat_policy_hides(unsigned special_features)
{
    return ((special_features & (1u << QAPI_DEPRECATED))
            && compat_policy.deprecated_output == QAPI_OUTPUT_HIDE)
        || ((special_features & (1u << QAPI_UNSTABLE))
            && compat_policy.unstable_output == QAPI_OUTPUT_HIDE);
}

const char *qapi_compat_policy_refused(unsigned special_features)
{
    if ((special_features & (1u << QAPI_DEPRECATED))
        && compat_policy.deprecated_input == QAPI_INPUT_REJECT) {
        return "deprecated";
    }
    if ((special_features & (1u << QAPI_UNSTABLE))
        && compat_policy.unstable_input == QAPI_INPUT_REJECT) {
        return "unstable";
    }
    return NULL;
}

bool qapi_compat_policy_refuses(unsigned special_features)
{
    return qapi_compat_policy_refused(special_features) != NULL;
}
