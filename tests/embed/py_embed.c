/* A program that embeds CPython through libpython (as uWSGI or a
 * plugin host does) and runs one mode of tests/embed/py_spawns.py:
 * _posixsubprocess is then libpython's, whose code reaches None through
 * the GOT (rt_cpython.c).
 *   py_embed SCRIPT MODE N */
#include <Python.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	char code[4096];
	snprintf(code, sizeof code,
		 "import sys\n"
		 "sys.argv = [%s%s%s, %s%s%s, %s%s%s]\n"
		 "exec(compile(open(sys.argv[0]).read(), sys.argv[0], 'exec'), {'__name__': '__main__'})\n",
		 "'", argv[1], "'", "'", argv[2], "'", "'", argv[3], "'");
	Py_Initialize();
	int rc = PyRun_SimpleString(code);
	if (Py_FinalizeEx() < 0)
		rc = 120;
	return rc ? 1 : 0;
}
