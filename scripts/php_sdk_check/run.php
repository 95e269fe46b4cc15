<?php
// The merchant steps of scripts/php_sdk_check/check.sh, with Wonder's PHP SDK as shipped.
require __DIR__ . '/PaymentSDK.php';
$base = getenv('WONDER_BASE'); $hook = getenv('HOOK_URL');
$opts = ['appid'=>getenv('APP_ID'), 'signaturePrivateKey'=>file_get_contents(getenv('APP_KEY')), 'webhookVerifyPublicKey'=>'x', 'callback_url'=>$hook, 'redirect_url'=>'', 'environment'=>'stg'];
$sdk = new PaymentSDK($opts);
$pass = 0; $fail = 0; $run = (string) time() . rand(100, 999);
function step($name, $fn) { global $pass, $fail; try { $ok = $fn(); } catch (Throwable $e) { $ok = false; echo "  ! " . substr($e->getMessage(), 0, 300) . "\n"; }
  if ($ok) { $pass++; echo "PASS $name\n"; } else { $fail++; echo "FAIL $name\n"; } }
function pay($link) { $ch = curl_init($link); curl_setopt($ch, CURLOPT_POST, true); curl_setopt($ch, CURLOPT_POSTFIELDS, ''); curl_setopt($ch, CURLOPT_RETURNTRANSFER, true); curl_exec($ch); $c = curl_getinfo($ch, CURLINFO_HTTP_CODE); curl_close($ch); return $c < 400; }
function hooks($action) { $n = 0; foreach (@file(__DIR__ . '/webhooks.log') ?: [] as $l) { $d = json_decode($l, true); if ($d['action'] === $action && $d['status'] === 200) $n++; } return $n; }
function wait_hook($action) { for ($i = 0; $i < 50; $i++) { if (hooks($action) > 0) return true; usleep(100000); } return false; }
$woo = null; $sale = null; $num = null;
step('1 test configuration (verifySignature, charge_fee as a JSON number)', function () use ($sdk) { $r = $sdk->verifySignature(); return $r['success'] === true; });
step('2 WooCommerce checkout order (order.customer)', function () use ($sdk, $run, &$woo, &$num) {
  $r = $sdk->createPaymentLink(['order'=>['reference_number'=>"woo-$run", 'charge_fee'=>'25.00', 'due_date'=>gmdate('Y-m-d', strtotime('+30 days')), 'currency'=>'HKD', 'note'=>'Order #1 from shop', 'customer'=>['name'=>'Tai Man', 'email'=>'tm@example.com', 'phone'=>'12345678']]]);
  $woo = $r; $num = $r['data']['order']['number'] ?? null; return ($r['code'] ?? 0) == 200 && !empty($r['data']['payment_link']); });
step('3 OpenCart order (charge_fee 0.00, line items, string quantity, discount, language)', function () use ($sdk, $run) {
  $r = $sdk->createPaymentLink(['order'=>['reference_number'=>"oc-$run", 'charge_fee'=>'0.00', 'currency'=>'HKD', 'language'=>'en-gb', 'line_items'=>[
    ['purchasable_type'=>'Listing', 'purchase_id'=>'42', 'label'=>'Shirt', 'price'=>'50.00', 'quantity'=>'2', 'total'=>'100.00'],
    ['purchasable_type'=>'Listing', 'label'=>'Coupon', 'price'=>'-10.00', 'quantity'=>'1', 'total'=>'-10.00']]]]);
  $t = $r['data']['order']['initial_total'] ?? null; echo "  initial_total=" . json_encode($t) . "\n"; return ($r['code'] ?? 0) == 200 && (float) $t == 90.0; });
step('4 Query order by reference_number', function () use ($sdk, $run) { $r = $sdk->queryOrder(['order'=>['reference_number'=>"woo-$run"]]); return ($r['code'] ?? 0) == 200 && isset($r['data']['order']); });
step('5 shopper pays the payment link; order.paid webhook accepted by the WooCommerce handler', function () use ($woo) { return pay($woo['data']['payment_link']) && wait_hook('order.paid'); });
step('6 Query order shows it paid with its sale', function () use ($sdk, $run, &$sale) { $r = $sdk->queryOrder(['order'=>['reference_number'=>"woo-$run"]]); $o = $r['data']['order']; $sale = $o['transactions'][0]['uuid'] ?? null; return $o['correspondence_state'] === 'paid' && $sale; });
step('7 OpenCart query (reference_number + number + transaction uuid)', function () use ($sdk, $run, &$sale, &$num) { $r = $sdk->queryOrder(['order'=>['reference_number'=>"woo-$run", 'number'=>$num], 'transaction'=>['uuid'=>$sale]]); return ($r['code'] ?? 0) == 200; });
step('8 WooCommerce refund (number + reference_number, currency, reason)', function () use ($sdk, $run, &$sale, &$num) {
  $r = $sdk->refundTransaction(['order'=>['number'=>$num, 'reference_number'=>"woo-$run"], 'transaction'=>['uuid'=>$sale], 'refund'=>['amount'=>'5.00', 'currency'=>'HKD', 'reason'=>'Refund via WooCommerce']]);
  $ok = false; foreach ($r['data']['order']['transactions'] ?? [] as $t) if (($t['type'] ?? '') === 'Refund') $ok = true; return ($r['code'] ?? 0) == 200 && $ok; });
step('9 order.refunded webhook accepted', function () { return wait_hook('order.refunded'); });
step('10 OpenCart refund (amount as a JSON number, note)', function () use ($sdk, $run, &$sale) { $r = $sdk->refundTransaction(['order'=>['reference_number'=>"woo-$run"], 'transaction'=>['uuid'=>$sale], 'refund'=>['amount'=>3.0, 'note'=>'admin refund']]); return ($r['code'] ?? 0) == 200; });
step('11 the same 5.00 refund again within five minutes: code 100701, HTTP < 400', function () use ($sdk, $run, &$sale, &$num) {
  $r = $sdk->refundTransaction(['order'=>['number'=>$num, 'reference_number'=>"woo-$run"], 'transaction'=>['uuid'=>$sale], 'refund'=>['amount'=>'5.00', 'currency'=>'HKD', 'reason'=>'again']]); echo "  code=" . json_encode($r['code'] ?? null) . "\n"; return (string) ($r['code'] ?? '') === '100701'; });
step('12 void an unpaid order (voidOrder)', function () use ($sdk, $run) {
  $sdk->createPaymentLink(['order'=>['reference_number'=>"void-$run", 'charge_fee'=>'8.00', 'currency'=>'HKD']]);
  $r = $sdk->voidOrder(['order'=>['reference_number'=>"void-$run"]]); return ($r['code'] ?? 0) == 200; });
step('13 Query order shows the voided order', function () use ($sdk, $run) { $r = $sdk->queryOrder(['order'=>['reference_number'=>"void-$run"]]); $o = $r['data']['order']; return in_array('voided', [$o['state'] ?? '', $o['correspondence_state'] ?? '']); });
step('14 order.voided webhook accepted', function () { return wait_hook('order.voided'); });
step('15 void a paid sale (voidTransaction)', function () use ($sdk, $run) {
  $c = $sdk->createPaymentLink(['order'=>['reference_number'=>"vt-$run", 'charge_fee'=>'9.00', 'currency'=>'HKD']]); pay($c['data']['payment_link']);
  $q = $sdk->queryOrder(['order'=>['reference_number'=>"vt-$run"]]); $u = $q['data']['order']['transactions'][0]['uuid'];
  $r = $sdk->voidTransaction(['order'=>['reference_number'=>"vt-$run"], 'transaction'=>['uuid'=>$u]]); return ($r['code'] ?? 0) == 200; });
step('16 transaction.voided webhook accepted', function () { return wait_hook('transaction.voided'); });
echo "$pass of " . ($pass + $fail) . " steps pass\n"; exit($fail ? 1 : 0);
