./tool.sh message.txt
