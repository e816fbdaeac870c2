/* heapsnap_cmds.h - the heapsnap launcher's subcommands.
 *
 * Each takes the arguments after its name (argv[0] is the first of them)
 * and returns the process exit status: HS_EXIT_* from hs_tool.h, or for
 * `run` nothing at all when the program was started in its place. */
#ifndef HEAPSNAP_CMDS_H
#define HEAPSNAP_CMDS_H

/*! heapsnap run [options] [--] CMD [ARGS...] : execs CMD under the shim. */
int hs__cmd_run(int argc, char **argv);
extern const char hs__help_run[];

/*! heapsnap snap [options] PID : asks a shimmed process for a snapshot. */
int hs__cmd_snap(int argc, char **argv);
extern const char hs__help_snap[];

/*! heapsnap ps [--json] : lists the processes that run the shim. */
int hs__cmd_ps(int argc, char **argv);
extern const char hs__help_ps[];

/*! heapsnap dump [options] FILE : prints a snapshot for people. */
int hs__cmd_dump(int argc, char **argv);
extern const char hs__help_dump[];

/*! heapsnap attach [options] PID : loads the shim into a running process.
 * heapsnap detach PID : stops it. */
int hs__cmd_attach(int argc, char **argv);
extern const char hs__help_attach[];
int hs__cmd_detach(int argc, char **argv);
extern const char hs__help_detach[];

/*! The preloaded shim's path ($HEAPSNAP_LIB, else beside the launcher)
 * into out (PATH_MAX bytes). @return : 0, or a code after one line that
 * names cmd. */
int hs__shim_path(const char *cmd, char *out);

/*! The shim hs__shim_path would find, for advice: its absolute path into
 * out (PATH_MAX bytes), checked less closely and without a word.
 * @return : 0, or a negative code when there is none. */
int hs__shim_guess(char *out);

#endif /* HEAPSNAP_CMDS_H */
