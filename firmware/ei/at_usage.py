# The daemon's commands with their arguments, in the order AT+HELP lists them: AT+HELP's
# answer (ei/at_settings.py) and the text of a command given the wrong arguments
# (ei/at_common.py's arguments()). Loaded for them only: the lines are not kept on the heap
# while the daemon waits.
USAGE = ("CONFIG?", "CLEARCONFIG", "DEVICEID=<id>", "UPLOADHOST=<http(s)://host[:port]>",
         "MGMTSETTINGS=<ws(s)://host[:port]>", "UPLOADSETTINGS=<api key>,<path>",
         "SAMPLESETTINGS=<label>,<interval ms>,<length ms>[,<hmac key>]",
         "SAMPLESTART[=<sensor>]", "READFILE=<file>[,y|n]", "READBUFFER=<from>,<to>[,y|n]",
         "UNLINKFILE=<file>", "HELP")
