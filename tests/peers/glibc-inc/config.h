/* Empty: glibc's build writes config.h; support/ needs none of it. */
