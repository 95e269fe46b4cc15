<?php
// A replica of WooCommerce plugin's handle_webhook() (class-wonder-payments-gateway.php:869-1019):
// signature over Credential/Nonce/POST/normalised URI/raw body, then the order at the root or data.order.
require __DIR__ . '/PaymentSDK.php';
$log = __DIR__ . '/webhooks.log';
function done($code, $msg) { global $log; file_put_contents($log, json_encode(['status'=>$code,'msg'=>$msg, 'action'=>$_SERVER['HTTP_X_ACTION'] ?? ''])."\n", FILE_APPEND); http_response_code($code); echo $msg; exit; }
$raw = file_get_contents('php://input');
if (strlen($raw) > 200000) done(413, 'too large');
$data = json_decode($raw, true);
if (!is_array($data)) done(400, 'Invalid webhook data');
$sdk = new PaymentSDK(['appid'=>getenv('APP_ID'), 'signaturePrivateKey'=>'', 'webhookVerifyPublicKey'=>'x', 'callback_url'=>'', 'redirect_url'=>'']);
$uri = $_SERVER['REQUEST_URI'];
$msg = $sdk->generateSignatureMessage($_SERVER['HTTP_CREDENTIAL'] ?? '', $_SERVER['HTTP_NONCE'] ?? '', 'POST', $uri, $raw);
$pub = openssl_pkey_get_public(file_get_contents(getenv('WEBHOOK_KEY')));
$sig = base64_decode($_SERVER['HTTP_SIGNATURE'] ?? '', true);
if (!$sig || openssl_verify($msg, $sig, $pub, OPENSSL_ALGO_SHA256) !== 1) done(403, 'Invalid signature');
$payload = $data;
if (isset($data['data']['order']) && is_array($data['data']['order'])) $payload = $data['data']['order'];
if (empty($payload['reference_number'])) done(400, 'Missing reference_number');
done(200, '{"status":"ok"}');
