/*
 * main: portclass-nfq's entry point - the command line; the set-up, the
 * control loop and the shutdown are daemon.c's.  Nothing else is exported;
 * this header only records the defaults the man page documents.
 */
#ifndef PORTCLASS_NFQ_MAIN_H
#define PORTCLASS_NFQ_MAIN_H

#define MAIN_DEFAULT_REJECT_MARK 0x70c1a55u
#define MAIN_DEFAULT_COPY_RANGE 256u
#define MAIN_DEFAULT_QUEUE_MAXLEN 4096u
#define MAIN_DEFAULT_RCVBUF (8 * 1024 * 1024)
#define MAIN_DEFAULT_LOG_RATE 20u
#define MAIN_DEFAULT_STATS_INTERVAL 5u
#define MAIN_DEFAULT_REFRESH_MS 200u
#define MAIN_DEFAULT_LISTENER_MAX_AGE_MS 10000u
#define MAIN_DEFAULT_MAX_FLOWS 65536u
#define MAIN_DEFAULT_RULES "/etc/portclass/rules.conf"

#endif
