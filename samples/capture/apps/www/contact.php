<?php
// The site's contact form (run here from the command line as uid 1801, as PHP-FPM would run it).
// Arguments: TAG RECIPIENT (TAG is the ground-truth marker in the body; no log shows it).
// Prints "submit TAG UNIXTIME" before mail().
[$self, $tag, $to] = $argv;
printf("submit %s %.6f\n", $tag, microtime(true));
$body = "Name: Jane Example\nMessage: Please call me back about my order.\nsample: $tag\n";
$ok = mail($to, 'Contact form: new message', $body, "From: webapp@vps01.example.net\r\nReply-To: jane@example.org");
exit($ok ? 0 : 1);
