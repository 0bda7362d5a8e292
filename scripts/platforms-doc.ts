import { writeFileSync } from 'node:fs';
import { PLATFORMS_DOC_FILE, platformsDoc } from '@listbackup/catalogue/platforms-doc';

writeFileSync(PLATFORMS_DOC_FILE, platformsDoc());
console.log(`${PLATFORMS_DOC_FILE} generated from the catalogue`);
