/*
 * main: the portclass-replay command line - options, loading the
 * policies and the listener snapshot, running the replay, exit status.
 */
#ifndef PORTCLASS_REPLAY_MAIN_H
#define PORTCLASS_REPLAY_MAIN_H

/* Exit status: 0 nothing to report, 1 --fail-on or --compare found
 * something, 2 usage or input errors (2 wins over 1). */
#define MAIN_EXIT_OK 0
#define MAIN_EXIT_FOUND 1
#define MAIN_EXIT_ERROR 2

#endif
