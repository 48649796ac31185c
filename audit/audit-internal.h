/* SPDX-License-Identifier: MIT */
/* Declarations shared by audit/ files only. No other folder includes this. */
#ifndef PROJMODEL_AUDIT_INTERNAL_H
#define PROJMODEL_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/banned.h"

#endif
