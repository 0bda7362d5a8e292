/**
 * A short blocklist of passwords that top every breach corpus, in lower case. Two kinds:
 *  - long ones (10+ characters) that would pass the length rule on their own;
 *  - short base words, which `checkPasswordPolicy` matches after stripping the digits and
 *    symbols people pad them with to reach the length ("password2024!", "monkey123456").
 * Also the product's own name, which NIST SP 800-63B asks to block as a context word.
 */
const LIST = [
  // product and context words
  'listbackup', 'listbackup1', 'listbackup123', 'backup', 'backups',

  // "password" and friends
  'password', 'password1', 'password12', 'password123', 'password1234', 'password12345',
  'password123456', 'password1!', 'password01', 'password!', 'password!!', 'password2',
  'passwordpassword', 'mypassword', 'mypassword1', 'mypassword123', 'newpassword', 'newpassword1',
  'passw0rd', 'passw0rd123', 'p@ssword', 'p@ssword1', 'p@ssword123', 'p@ssw0rd', 'p@ssw0rd123',
  'pa$$word', 'pa$$w0rd', 'passwort', 'passwort123', 'motdepasse', 'contrasena', 'senha123456',
  'secretpassword', 'secret', 'secret1234', 'changeme', 'changeme123', 'default123',

  // digit runs and numeric patterns
  '1234567890', '12345678910', '0123456789', '0987654321', '9876543210', '1111111111',
  '0000000000', '2222222222', '9999999999', '1212121212', '1122334455', '1234512345',
  '1234554321', '123123123123', '123321123321', '12341234', '1029384756', '147258369',
  '1472583690', '159753159753', '123456789a', '1234567890a', '123456789abc', '1234567890q',
  '12345678900', '123456789123', '11111111111', '123456123456',

  // keyboard walks
  'qwerty', 'qwertyuiop', 'qwertyuiop123', 'qwerty12345', 'qwerty123456', 'qwerty1234',
  'qwertyqwerty', 'qwerty123!', 'qwertyui', 'qwertz', 'qwertzuiop', 'azerty', 'azertyuiop',
  'asdfghjkl', 'asdfghjkl1', 'asdfghjkl123', 'asdfasdfasdf', 'asdf123456', 'qwer123456',
  'qwerasdfzxcv', 'zxcvbnm', 'zxcvbnm123', 'zxcvbnm1234', 'zxcvbnmasdf', 'qazwsxedc',
  'qazwsxedc1', 'qazwsxedcrfv', '1qazxsw2', '1qazxsw23edc', '1qaz2wsx', '1qaz2wsx3edc',
  '1q2w3e4r', '1q2w3e4r5t', '1q2w3e4r5t6y', 'q1w2e3r4t5', 'q1w2e3r4t5y6', 'zaq12wsx',
  'zaq1zaq1zaq1', '12qwaszx12', '1qaz!qaz', 'abcdefghij', 'abcdefghijk', 'abc123', 'abc1234567',
  'abcd123456', 'abcdef1234', 'a1b2c3d4e5', 'a1b2c3d4e5f6', 'aaaaaaaaaa', 'abcabcabcabc',

  // words and phrases
  'iloveyou', 'iloveyou1', 'iloveyou12', 'iloveyou123', 'iloveyou1234', 'iloveyou!!',
  'iloveyou2', 'iloveyouforever', 'ihateyou', 'ihateyou12', 'loveyou123', 'lovelove12',
  'letmein', 'letmein123', 'letmein1234', 'letmeinnow', 'welcome', 'welcome1', 'welcome123',
  'welcome1234', 'welcome@123', 'welcome2024', 'welcome2025', 'trustno1', 'trustno1234',
  'whatever', 'whatever123', 'hello', 'hello12345', 'helloworld', 'helloworld1', 'hellohello',
  'admin', 'admin12345', 'admin123456', 'adminadmin', 'administrator', 'rootroot',
  'rootroot12', 'master', 'master1234', 'masterkey', 'login12345', 'computer', 'computer123',
  'internet', 'internet123', 'freedom', 'freedom123', 'sunshine', 'sunshine123', 'princess',
  'princess123', 'dragon', 'dragon1234', 'monkey', 'monkey1234', 'shadow', 'shadow1234',
  'superman', 'superman123', 'batman', 'batman1234', 'starwars', 'starwars123', 'pokemon',
  'pokemon123', 'minecraft', 'minecraft123', 'fortnite', 'chocolate', 'chocolate1',
  'butterfly', 'butterfly1', 'blink182', 'cheese123', 'flower1234', 'purple1234', 'cookie1234',
  'nintendo', 'playstation', 'playstation2', 'baseball', 'baseball123', 'football',
  'football1', 'football123', 'basketball', 'basketball1', 'soccer1234', 'hockey1234',
  'liverpool', 'liverpool1', 'liverpool123', 'chelsea123', 'arsenal123', 'manchester',
  'manchesterunited', 'barcelona', 'barcelona1', 'realmadrid', 'yankees123', 'cowboys123',

  // names
  'michael', 'michael123', 'jennifer', 'jennifer123', 'jessica123', 'ashley1234', 'nicole1234',
  'daniel1234', 'andrew1234', 'joshua1234', 'jordan2323', 'christopher', 'alexander',
  'alexander1', 'charlie', 'charlie123', 'michelle12', 'elizabeth', 'elizabeth1', 'victoria12',

  // seasons and years
  'summer2023', 'summer2024', 'summer2025', 'winter2023', 'winter2024', 'winter2025',
  'spring2024', 'spring2025', 'autumn2024', 'january2024', 'january2025', 'december2024',
];

export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(LIST);
