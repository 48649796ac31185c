/* SPDX-License-Identifier: MIT */
/* Functions projmodel must not call, made compile errors. Every folder's
 * internal header includes this last, after the system headers it uses. */
#ifndef PROJMODEL_BANNED_H
#define PROJMODEL_BANNED_H

/* Each use expands to an undeclared identifier naming the ban, so the error says why. */
#define PM__BANNED(func) sorry_##func##_is_banned_in_projmodel

#undef system
#define system(...) PM__BANNED(system)
#undef popen
#define popen(...) PM__BANNED(popen)
#undef strcpy
#define strcpy(...) PM__BANNED(strcpy)
#undef strcat
#define strcat(...) PM__BANNED(strcat)
#undef sprintf
#define sprintf(...) PM__BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PM__BANNED(vsprintf)
#undef strtok
#define strtok(...) PM__BANNED(strtok)
#undef atoi
#define atoi(...) PM__BANNED(atoi)
#undef atol
#define atol(...) PM__BANNED(atol)
#undef gmtime
#define gmtime(...) PM__BANNED(gmtime)
#undef localtime
#define localtime(...) PM__BANNED(localtime)

#endif
