<?php
// Stand-in for a spam script dropped into an upload folder (real ones take their list from a POST).
// Arguments: TAG:RECIPIENT ... (TAG is the ground-truth marker in the body; no log shows it).
// Prints "submit TAG UNIXTIME" before each mail().
foreach (array_slice($argv, 1) as $item) {
    [$tag, $to] = explode(':', $item, 2);
    printf("submit %s %.6f\n", $tag, microtime(true));
    $body = "Dear customer,\nyour invoice is ready: see the attachment.\nsample: $tag\n";
    mail($to, 'Your invoice is ready', $body, "From: Billing <noreply@example.com>");
    usleep(300000);
}
